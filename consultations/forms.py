"""Shared form pieces."""
from __future__ import annotations

from wtforms import SelectMultipleField, widgets
from wtforms.fields.choices import SelectChoice
from wtforms.validators import ValidationError


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
        raise ValidationError("Remove the control characters from this text.")


def choices(pairs) -> list[SelectChoice]:
    """(value, label) pairs as WTForms choices."""
    return [SelectChoice(value, label) for value, label in pairs]
