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

from ..forms import MultiCheckboxField, choices, no_control_characters, strip_filter
from ..markdown import MAX_MARKDOWN_LENGTH
from ..reference import CONSULTATION_KINDS, LANGUAGES, objectives
from .models import ELIGIBILITY, STATE_LABELS


def objective_choices():
    return choices((o.number, o.label) for o in objectives())


class ConsultationForm(FlaskForm):
    title = StringField(
        "Title",
        filters=[strip_filter],
        validators=[DataRequired(message="Give the consultation a title."), Length(max=200), no_control_characters],
    )
    kind = SelectField("Kind", choices=choices(CONSULTATION_KINDS.items()))
    description = TextAreaField(
        "Description",
        validators=[Optional(), Length(max=MAX_MARKDOWN_LENGTH), no_control_characters],
        description="Markdown: **bold**, *italic*, lists, [links](https://example.org).",
    )
    territory = StringField(
        "Territory",
        filters=[strip_filter],
        validators=[Optional(), Length(max=200), no_control_characters],
        description="For example: Spain, Province of Guadalajara, City of Valencia.",
    )
    language = SelectField("Main language", choices=choices(LANGUAGES.items()), default="en")
    opens_on = DateField("Opens on", validators=[DataRequired(message="Give an opening date (YYYY-MM-DD).")])
    closes_on = DateField("Closes on", validators=[DataRequired(message="Give a closing date (YYYY-MM-DD).")])
    focus = MultiCheckboxField("GCM objectives in focus", coerce=int, validators=[Optional()])
    eligibility = RadioField("Who may contribute", choices=choices(ELIGIBILITY.items()), default="registered")
    invited = SelectMultipleField(
        "Invited organisations",
        coerce=int,
        validators=[Optional()],
        description="Only used when only invited organisations may contribute.",
    )

    def __init__(self, *args, organisation_choices=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.focus.choices = objective_choices()
        self.invited.choices = choices(organisation_choices)

    def validate_closes_on(self, field):
        if self.opens_on.data and field.data and field.data < self.opens_on.data:
            raise ValidationError("The closing date cannot be before the opening date.")

    def validate(self, extra_validators=None) -> bool:
        valid = super().validate(extra_validators)
        # Across fields (Optional() would stop a per-field check on an empty list).
        if self.eligibility.data == "invited" and not self.invited.data:
            self.invited.errors = [*self.invited.errors, "Invite at least one organisation, or let anyone registered contribute."]
            valid = False
        return valid


class OrganiserForm(FlaskForm):
    email = EmailField(
        "E-mail of the organiser to add",
        filters=[strip_filter],
        validators=[DataRequired(), Length(max=254), Email(check_deliverability=False)],
    )


class TransitionForm(FlaskForm):
    """Just the CSRF token: lifecycle buttons post to their own URL."""


class ConsultationListForm(FlaskForm):
    class Meta:
        csrf = False

    state = SelectField(
        "Status",
        choices=choices([("", "Open, closed and published"), *((k, v) for k, v in STATE_LABELS.items() if k != "draft")]),
        validators=[Optional()],
    )
    kind = SelectField("Kind", choices=choices([("", "All kinds"), *CONSULTATION_KINDS.items()]), validators=[Optional()])
    q = StringField("Search", filters=[strip_filter], validators=[Optional(), Length(max=200)])
