"""Shared form pieces."""
from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import HiddenField, SelectField, SelectMultipleField, widgets
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Length, Optional, ValidationError
from flask_babel import gettext as _


class MultiCheckboxField(SelectMultipleField):
    """A multiple choice shown as a list of checkboxes."""

    widget = widgets.ListWidget(prefix_label=False)
    option_widget = widgets.CheckboxInput()


def strip_filter(value):
    return value.strip() if isinstance(value, str) else value


def no_control_characters(form, field):
    value = field.data
    if isinstance(value, str) and any(
        (ord(ch) < 32 and ch not in "\t\n\r") or ch == "\x7f" for ch in value
    ):
        raise ValidationError(_("Remove the control characters from this text."))


def database_ids(form, field):
    """Integer data (one or a list) that a database id column can hold: a larger number
    names nothing, and would overflow the database driver."""
    from .http import MAX_ID

    values = field.data if isinstance(field.data, (list, tuple)) else [field.data]
    if any(isinstance(v, int) and not -MAX_ID <= v <= MAX_ID for v in values):
        raise ValidationError(_("This number is out of range."))


def choices(pairs) -> list[SelectChoice]:
    """(value, label) pairs as WTForms choices."""
    return [SelectChoice(value, label) for value, label in pairs]


def translated(labels) -> list[tuple]:
    """(key, label) pairs of a key -> English label dict, the labels translated lazily
    (when the form is shown, in the interface language)."""
    from flask_babel import lazy_gettext

    return [(key, lazy_gettext(label)) for key, label in labels.items()]


class LanguageForm(FlaskForm):
    """The language switcher of every page (base.html)."""

    locale = SelectField(
        _l("Language"),
        validators=[DataRequired(message=_l("Choose one of the languages offered."))],
    )
    next = HiddenField(validators=[Optional(), Length(max=2000)])

    def __init__(self, *args, **kwargs):
        from .i18n import INTERFACE_LANGUAGES

        super().__init__(*args, **kwargs)
        self.locale.choices = choices(INTERFACE_LANGUAGES.items())
