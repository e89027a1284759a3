from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, HiddenField, IntegerField, SelectField, SelectMultipleField, StringField, TextAreaField
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, Optional

from ..consultations.forms import objective_choices
from ..forms import MultiCheckboxField, choices, database_ids, no_control_characters, strip_filter, translated
from ..markdown import MAX_MARKDOWN_LENGTH
from ..reference import CONTRIBUTION_KINDS

_REVISION_MESSAGE = _l("This page is out of date. Reload it and try again.")


class _Revisioned(FlaskForm):
    revision = HiddenField(validators=[DataRequired(message=_REVISION_MESSAGE)])


class SettingsForm(_Revisioned):
    privacy_threshold = IntegerField(
        _l("Privacy threshold"),
        validators=[InputRequired(message=_l("Give a whole number from 1 to 50.")), NumberRange(1, 50, message=_l("Give a whole number from 1 to 50."))],
        description=_l("Counts below this number are not published (default 3), so that nobody can be singled out."),
    )
    migrant_min_percent = IntegerField(
        _l("Warn when migrant and diaspora associations together fall below (%)"),
        validators=[InputRequired(message=_l("Give a whole number from 0 to 100.")), NumberRange(0, 100, message=_l("Give a whole number from 0 to 100."))],
        description=_l("Default 25%."),
    )
    dominance_max_percent = IntegerField(
        _l("Warn when one stakeholder category exceeds (%)"),
        validators=[InputRequired(message=_l("Give a whole number from 1 to 100.")), NumberRange(1, 100, message=_l("Give a whole number from 1 to 100."))],
        description=_l("Default 50%."),
    )


class SectionForm(_Revisioned):
    text = TextAreaField(
        _l("Narrative"),
        validators=[Optional(), Length(max=MAX_MARKDOWN_LENGTH), no_control_characters],
        description=_l("Markdown: **bold**, *italic*, lists, [links](https://example.org). Private until you publish."),
    )
    use_default = BooleanField(_l("Use the default GCM objectives for this section"))
    objectives = MultiCheckboxField(_l("GCM objectives whose contributions this section proposes"), coerce=int, validators=[Optional()])

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.objectives.choices = objective_choices()


class PinForm(_Revisioned):
    contribution_id = IntegerField(validators=[InputRequired(message=_l("Choose a contribution.")), database_ids])
    action = SelectField(choices=choices([
        ("pin", _l("Pin")), ("drop", _l("Drop")), ("clear", _l("Clear")), ("up", _l("Move up")), ("down", _l("Move down")),
    ]))


class PublishForm(_Revisioned):
    note = StringField(
        _l("What changed (optional)"),
        filters=[strip_filter],
        validators=[Optional(), Length(max=300), no_control_characters],
    )


class ContributionsFilterForm(FlaskForm):
    class Meta:
        csrf = False

    # Stripped: a blank or whitespace-only filter is no filter (issue 10).
    objective = SelectField(_l("GCM objective"), filters=[strip_filter], validators=[Optional()])
    kind = SelectField(_l("Kind"), choices=choices([("", _l("All kinds")), *translated(CONTRIBUTION_KINDS)]),
                       filters=[strip_filter], validators=[Optional()])

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.objective.choices = choices([("", _l("All objectives")), *((str(c.value), c.label) for c in objective_choices())])

    def values(self) -> dict:
        self.validate()
        out = {}
        if self.objective.data and not self.objective.errors:
            out["objective_number"] = int(self.objective.data)
        if self.kind.data and not self.kind.errors:
            out["kind"] = self.kind.data
        return out


class NationalForm(FlaskForm):
    """The selection of consultations, in the query string (a read-only view)."""

    class Meta:
        csrf = False

    c = SelectMultipleField(_l("Consultations"), coerce=int, validate_choice=False, validators=[database_ids])


class NationalSummaryForm(SettingsForm):
    """A saved national summary: its title, the consultations it compiles, its settings."""

    title = StringField(
        _l("Title"),
        filters=[strip_filter],
        validators=[DataRequired(message=_l("Give the national summary a title.")), Length(max=200), no_control_characters],
    )
    c = SelectMultipleField(
        _l("Consultations"), coerce=int, validate_choice=False,
        validators=[DataRequired(message=_l("Choose at least one consultation.")), database_ids],
    )
