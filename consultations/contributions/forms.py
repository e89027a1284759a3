from __future__ import annotations

import secrets

from flask_wtf import FlaskForm
from wtforms import BooleanField, HiddenField, RadioField, SelectField, SelectMultipleField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length, Optional

from ..consultations.forms import objective_choices
from ..forms import MultiCheckboxField, choices, no_control_characters, strip_filter
from ..markdown import MAX_MARKDOWN_LENGTH
from ..reference import CONTRIBUTION_KINDS, GOVERNANCE_LEVELS, STAKEHOLDER_CATEGORIES, objectives, principles
from .services import MAX_TITLE_LENGTH


def new_submission_key() -> str:
    return secrets.token_urlsafe(24)


class ContributionForm(FlaskForm):
    submission_key = HiddenField(default=new_submission_key, validators=[Optional(), Length(max=64)])
    kind = RadioField("This is a", choices=choices(CONTRIBUTION_KINDS.items()), validators=[DataRequired(message="Choose challenge, proposal or good practice.")])
    title = StringField(
        "Title",
        filters=[strip_filter],
        validators=[DataRequired(message="Give your contribution a title."), Length(max=MAX_TITLE_LENGTH), no_control_characters],
    )
    body = TextAreaField(
        "Text",
        validators=[Optional(), Length(max=MAX_MARKDOWN_LENGTH), no_control_characters],
        description="Markdown: **bold**, *italic*, lists, [links](https://example.org).",
    )
    objectives = MultiCheckboxField(
        "GCM objectives",
        coerce=int,
        validators=[DataRequired(message="Tag at least one GCM objective.")],
    )
    principles = MultiCheckboxField("Guiding principles (optional)", validators=[Optional()])
    answers = SelectMultipleField(
        "Challenges this proposal answers (optional)",
        coerce=int,
        validators=[Optional()],
        description="Only for proposals. Hold Ctrl (or Cmd) to choose several.",
    )
    name_organisation = BooleanField("Show my organisation's name with this contribution")
    on_behalf = BooleanField("This is input we collected from people who hold no account")
    on_behalf_note = StringField(
        "Where was it collected?",
        filters=[strip_filter],
        validators=[Optional(), Length(max=300), no_control_characters],
        description='For example: "collected at our meeting of 3 May". Never name the people.',
    )
    on_behalf_category = SelectField(
        "Stakeholder category of the people who spoke",
        choices=choices([(k, v) for k, v in STAKEHOLDER_CATEGORIES.items() if k != "public_administration"]),
        default="migrant_association",
    )

    def __init__(self, *args, challenge_choices=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.objectives.choices = objective_choices()
        self.principles.choices = choices((p.key, p.title) for p in principles())
        self.answers.choices = choices(challenge_choices)

    def validate_answers(self, field):
        from wtforms.validators import ValidationError

        if field.data and self.kind.data != "proposal":
            raise ValidationError("Only a proposal can answer challenges.")


class WithdrawForm(FlaskForm):
    """CSRF token only."""


class ContributionFilterForm(FlaskForm):
    class Meta:
        csrf = False

    kind = SelectField("Kind", choices=choices([("", "All kinds"), *CONTRIBUTION_KINDS.items()]), validators=[Optional()])
    objective = SelectField("GCM objective", validators=[Optional()])
    category = SelectField(
        "Stakeholder category",
        choices=choices([("", "All categories"), *STAKEHOLDER_CATEGORIES.items()]),
        validators=[Optional()],
    )
    q = StringField("Search text", filters=[strip_filter], validators=[Optional(), Length(max=200)])

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.objective.choices = choices([("", "All objectives"), *((str(o.number), o.label) for o in objectives())])

    def values(self) -> dict:
        """The filters that are valid; an invalid one is dropped (and shows its error)."""
        self.validate()
        out = {}
        for name in ("kind", "objective", "category", "q"):
            field = getattr(self, name)
            if field.data and not field.errors:
                out[name] = int(field.data) if name == "objective" else field.data
        return out


class AnonymousContributionForm(FlaskForm):
    """Contributing without an account: no name, no e-mail, nothing that identifies."""

    submission_key = HiddenField(default=new_submission_key, validators=[Optional(), Length(max=64)])

    category = SelectField(
        "Which stakeholder category describes you best?",
        choices=choices([(k, v) for k, v in STAKEHOLDER_CATEGORIES.items()]),
        default="other",
    )
    level = SelectField(
        "Governance level (public administrations only)",
        choices=choices([("", "—"), *GOVERNANCE_LEVELS.items()]),
        default="",
    )
    kind = RadioField("This is a", choices=choices(CONTRIBUTION_KINDS.items()),
                      validators=[DataRequired(message="Choose challenge, proposal or good practice.")])
    title = StringField(
        "Title", filters=[strip_filter],
        validators=[DataRequired(message="Give your contribution a title."), Length(max=MAX_TITLE_LENGTH), no_control_characters],
    )
    body = TextAreaField(
        "Text", validators=[Optional(), Length(max=MAX_MARKDOWN_LENGTH), no_control_characters],
        description="Markdown: **bold**, *italic*, lists, links. Do not write your name or anything that identifies you.",
    )
    objectives = MultiCheckboxField("GCM objectives", coerce=int,
                                    validators=[DataRequired(message="Tag at least one GCM objective.")])
    principles = MultiCheckboxField("Guiding principles (optional)", validators=[Optional()])

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.objectives.choices = objective_choices()
        self.principles.choices = choices((p.key, p.title) for p in principles())

    def validate(self, extra_validators=None) -> bool:
        valid = super().validate(extra_validators)
        if self.level.data and self.category.data != "public_administration":
            self.level.errors = [*self.level.errors, "Only public administrations have a governance level."]
            valid = False
        return valid


class AnonymousEditForm(AnonymousContributionForm):
    code = StringField(
        "Your secret code", filters=[strip_filter],
        validators=[DataRequired(message="Give the code you received when you submitted."), Length(max=100)],
    )
    action = RadioField("What do you want to do?", choices=choices([("edit", "Save my changes"), ("withdraw", "Withdraw my contribution")]),
                        default="edit")
