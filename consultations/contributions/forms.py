from __future__ import annotations

import secrets

from flask_wtf import FlaskForm
from wtforms import BooleanField, HiddenField, RadioField, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length, Optional

from ..consultations.forms import objective_choices
from ..forms import MultiCheckboxField, choices, database_ids, no_control_characters, strip_filter, translated
from ..markdown import MAX_MARKDOWN_LENGTH
from ..reference import CONTRIBUTION_KINDS, GOVERNANCE_LEVELS, LANGUAGES, STAKEHOLDER_CATEGORIES, objectives, principles
from .services import MAX_ANSWERS, MAX_TITLE_LENGTH
from flask_babel import gettext as _, lazy_gettext as _l


def new_submission_key() -> str:
    return secrets.token_urlsafe(24)


class ContributionForm(FlaskForm):
    submission_key = HiddenField(default=new_submission_key, validators=[Optional(), Length(max=64)])
    kind = RadioField(_l("This is a"), choices=choices(translated(CONTRIBUTION_KINDS)), validators=[DataRequired(message=_l("Choose challenge, proposal or good practice."))])
    title = StringField(
        _l("Title"),
        filters=[strip_filter],
        validators=[DataRequired(message=_l("Give your contribution a title.")), Length(max=MAX_TITLE_LENGTH), no_control_characters],
    )
    body = TextAreaField(
        _l("Text"),
        validators=[Optional(), Length(max=MAX_MARKDOWN_LENGTH), no_control_characters],
        description=_l("Markdown: **bold**, *italic*, lists, [links](https://example.org)."),
    )
    objectives = MultiCheckboxField(
        _l("GCM objectives"),
        coerce=int,
        validators=[DataRequired(message=_l("Tag at least one GCM objective."))],
    )
    principles = MultiCheckboxField(_l("Guiding principles (optional)"), validators=[Optional()])
    # Only the chosen challenges and the matches of a search are choices (never every
    # challenge of the consultation); the service checks that each is an open challenge
    # of the same consultation.
    answers = MultiCheckboxField(
        _l("Challenges this proposal answers (optional)"),
        coerce=int,
        validate_choice=False,
        validators=[Optional(), database_ids],
    )
    challenge_q = StringField(
        _l("Find challenges to answer"),
        filters=[strip_filter],
        validators=[Optional(), Length(max=200), no_control_characters],
        description=_l("A few words of the challenge's title, or its number."),
    )
    language = SelectField(
        _l("Language of this contribution"),
        validate_choice=False,  # the service refuses a language the consultation does not accept
        validators=[Optional(), Length(max=10)],
    )
    name_organisation = BooleanField(_l("Show my organisation's name with this contribution"))
    on_behalf = BooleanField(_l("This is input we collected from people who hold no account"))
    on_behalf_note = StringField(
        _l("Where was it collected?"),
        filters=[strip_filter],
        validators=[Optional(), Length(max=300), no_control_characters],
        description=_l('For example: "collected at our meeting of 3 May". Never name the people.'),
    )
    on_behalf_category = SelectField(
        _l("Stakeholder category of the people who spoke"),
        choices=choices([(k, v) for k, v in translated(STAKEHOLDER_CATEGORIES) if k != "public_administration"]),
        default="migrant_association",
    )

    def __init__(self, *args, language_choices=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.language.choices = choices(language_choices)
        self.objectives.choices = objective_choices()
        self.principles.choices = choices((p.key, p.title) for p in principles())
        self.answers.choices = []

    def set_challenges(self, chosen, matches=()) -> None:
        """The challenges shown: ``chosen`` ((id, title), ticked) then the ``matches`` of a
        search that are not chosen already."""
        shown = dict(chosen)
        self.answers.choices = choices([*chosen, *((i, t) for i, t in matches if i not in shown)])
        self.answers.data = [i for i, _title in chosen]

    def validate_answers(self, field):
        from wtforms.validators import ValidationError

        if field.data and self.kind.data != "proposal":
            raise ValidationError(_("Only a proposal can answer challenges."))
        if len(field.data or ()) > MAX_ANSWERS:
            raise ValidationError(_("A proposal answers at most %(max)s challenges.", max=MAX_ANSWERS))


class WithdrawForm(FlaskForm):
    """CSRF token only."""


class ContributionFilterForm(FlaskForm):
    class Meta:
        csrf = False

    # Filters are stripped: a blank or whitespace-only filter is no filter (issue 10).
    kind = SelectField(_l("Kind"), choices=choices([("", _l("All kinds")), *translated(CONTRIBUTION_KINDS)]),
                       filters=[strip_filter], validators=[Optional()])
    objective = SelectField(_l("GCM objective"), filters=[strip_filter], validators=[Optional()])
    category = SelectField(
        _l("Stakeholder category"),
        choices=choices([("", _l("All categories")), *translated(STAKEHOLDER_CATEGORIES)]),
        filters=[strip_filter],
        validators=[Optional()],
    )
    language = SelectField(
        _l("Language"),
        choices=choices([("", _l("All languages")), *translated(LANGUAGES)]),
        filters=[strip_filter],
        validators=[Optional()],
    )
    q = StringField(_l("Search text"), filters=[strip_filter], validators=[Optional(), Length(max=200)])

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.objective.choices = choices([("", _l("All objectives")), *((str(o.number), o.label) for o in objectives())])

    def values(self) -> dict:
        """The filters that are valid; an invalid one is dropped (and shows its error)."""
        self.validate()
        out = {}
        for name in ("kind", "objective", "category", "language", "q"):
            field = getattr(self, name)
            if field.data and not field.errors:
                out[name] = int(field.data) if name == "objective" else field.data
        return out


class AnonymousContributionForm(FlaskForm):
    """Contributing without an account: no name, no e-mail, nothing that identifies."""

    submission_key = HiddenField(default=new_submission_key, validators=[Optional(), Length(max=64)])

    category = SelectField(
        _l("Which stakeholder category describes you best?"),
        choices=choices([(k, v) for k, v in translated(STAKEHOLDER_CATEGORIES)]),
        default="other",
    )
    level = SelectField(
        _l("Governance level (public administrations only)"),
        choices=choices([("", _l("—")), *translated(GOVERNANCE_LEVELS)]),
        default="",
    )
    kind = RadioField(_l("This is a"), choices=choices(translated(CONTRIBUTION_KINDS)),
                      validators=[DataRequired(message=_l("Choose challenge, proposal or good practice."))])
    title = StringField(
        _l("Title"), filters=[strip_filter],
        validators=[DataRequired(message=_l("Give your contribution a title.")), Length(max=MAX_TITLE_LENGTH), no_control_characters],
    )
    body = TextAreaField(
        _l("Text"), validators=[Optional(), Length(max=MAX_MARKDOWN_LENGTH), no_control_characters],
        description=_l("Markdown: **bold**, *italic*, lists, links. Do not write your name or anything that identifies you."),
    )
    objectives = MultiCheckboxField(_l("GCM objectives"), coerce=int,
                                    validators=[DataRequired(message=_l("Tag at least one GCM objective."))])
    principles = MultiCheckboxField(_l("Guiding principles (optional)"), validators=[Optional()])
    language = SelectField(
        _l("Language of this contribution"),
        validate_choice=False,  # the service refuses a language the consultation does not accept
        validators=[Optional(), Length(max=10)],
    )

    def __init__(self, *args, language_choices=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.language.choices = choices(language_choices)
        self.objectives.choices = objective_choices()
        self.principles.choices = choices((p.key, p.title) for p in principles())

    def validate(self, extra_validators=None) -> bool:
        valid = super().validate(extra_validators)
        if self.level.data and self.category.data != "public_administration":
            self.level.errors = [*self.level.errors, "Only public administrations have a governance level."]
            valid = False
        return valid


class AnonymousCodeForm(FlaskForm):
    """The first step of the secret-code page: the code alone. The page shows nothing of
    the contribution before the right code is given."""

    code = StringField(
        _l("Your secret code"), filters=[strip_filter],
        validators=[DataRequired(message=_l("Give the code you received when you submitted.")), Length(max=100)],
    )


class AnonymousEditForm(AnonymousContributionForm):
    code = StringField(
        _l("Your secret code"), filters=[strip_filter],
        validators=[DataRequired(message=_l("Give the code you received when you submitted.")), Length(max=100)],
    )
    action = RadioField(_l("What do you want to do?"), choices=choices([("edit", _l("Save my changes")), ("withdraw", _l("Withdraw my contribution"))]),
                        default="edit")
