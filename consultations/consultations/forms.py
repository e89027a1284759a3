from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import (
    DateField,
    EmailField,
    RadioField,
    SelectField,
    SelectMultipleField,
    StringField,
    TextAreaField,
)
from wtforms.validators import DataRequired, Email, Length, Optional, ValidationError

from ..forms import MultiCheckboxField, choices, no_control_characters, strip_filter, translated
from ..markdown import MAX_MARKDOWN_LENGTH
from ..reference import CONSULTATION_KINDS, LANGUAGES, objectives
from .models import ELIGIBILITY, STATE_LABELS
from flask_babel import gettext as _, lazy_gettext as _l


def objective_choices():
    return choices((o.number, o.label) for o in objectives())


class ConsultationForm(FlaskForm):
    title = StringField(
        _l("Title"),
        filters=[strip_filter],
        validators=[DataRequired(message=_l("Give the consultation a title.")), Length(max=200), no_control_characters],
    )
    kind = SelectField(_l("Kind"), choices=choices(translated(CONSULTATION_KINDS)))
    description = TextAreaField(
        _l("Description"),
        validators=[Optional(), Length(max=MAX_MARKDOWN_LENGTH), no_control_characters],
        description=_l("Markdown: **bold**, *italic*, lists, [links](https://example.org)."),
    )
    territory = StringField(
        _l("Territory"),
        filters=[strip_filter],
        validators=[Optional(), Length(max=200), no_control_characters],
        description=_l("For example: Spain, Province of Guadalajara, City of Valencia."),
    )
    language = SelectField(_l("Main language"), choices=choices(translated(LANGUAGES)), default="en")
    accepted_languages = MultiCheckboxField(
        _l("Languages contributions may be written in"),
        choices=choices(translated(LANGUAGES)),
        validate_choice=False,  # the service says which code is unknown
        validators=[Optional()],
        description=_l("The main language is always accepted."),
    )
    opens_on = DateField(_l("Opens on"), validators=[DataRequired(message=_l("Give an opening date (YYYY-MM-DD)."))])
    closes_on = DateField(_l("Closes on"), validators=[DataRequired(message=_l("Give a closing date (YYYY-MM-DD)."))])
    focus = MultiCheckboxField(_l("GCM objectives in focus"), coerce=int, validators=[Optional()])
    eligibility = RadioField(_l("Who may contribute"), choices=choices(translated(ELIGIBILITY)), default="registered")
    invited = SelectMultipleField(
        _l("Invited organisations"),
        coerce=int,
        validators=[Optional()],
        description=_l("Only used when only invited organisations may contribute."),
    )

    def __init__(self, *args, organisation_choices=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.focus.choices = objective_choices()
        self.invited.choices = choices(organisation_choices)

    def validate_closes_on(self, field):
        if self.opens_on.data and field.data and field.data < self.opens_on.data:
            raise ValidationError(_("The closing date cannot be before the opening date."))

    def validate(self, extra_validators=None) -> bool:
        valid = super().validate(extra_validators)
        # Across fields (Optional() would stop a per-field check on an empty list).
        if self.eligibility.data == "invited" and not self.invited.data:
            self.invited.errors = [*self.invited.errors, "Invite at least one organisation, or let anyone registered contribute."]
            valid = False
        return valid


class OrganiserForm(FlaskForm):
    email = EmailField(
        _l("E-mail of the organiser to add"),
        filters=[strip_filter],
        validators=[DataRequired(), Length(max=254), Email(check_deliverability=False)],
    )


class TransitionForm(FlaskForm):
    """Just the CSRF token: lifecycle buttons post to their own URL."""


class ConsultationListForm(FlaskForm):
    class Meta:
        csrf = False

    state = SelectField(
        _l("Status"),
        choices=choices([("", _l("Open, closed and published")), *((k, v) for k, v in translated(STATE_LABELS) if k != "draft")]),
        validators=[Optional()],
    )
    kind = SelectField(_l("Kind"), choices=choices([("", _l("All kinds")), *translated(CONSULTATION_KINDS)]), validators=[Optional()])
    q = StringField(_l("Search"), filters=[strip_filter], validators=[Optional(), Length(max=200)])
