from __future__ import annotations

from functools import lru_cache
from zoneinfo import available_timezones

from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    DateField,
    FieldList,
    Form,
    FormField,
    IntegerField,
    RadioField,
    SelectField,
    SelectMultipleField,
    StringField,
    TextAreaField,
    TimeField,
)
from wtforms.validators import URL, DataRequired, Length, NumberRange, Optional

from ..consultations.forms import objective_choices
from ..forms import MultiCheckboxField, choices, no_control_characters, strip_filter, translated
from ..markdown import MAX_MARKDOWN_LENGTH
from ..reference import CONTRIBUTION_KINDS, GOVERNANCE_LEVELS, STAKEHOLDER_CATEGORIES
from .models import MEMBER_STATUSES, MODES
from flask_babel import lazy_gettext as _l


@lru_cache(maxsize=1)
def timezone_choices():
    names = sorted(n for n in available_timezones() if "/" in n and not n.startswith(("Etc/", "SystemV/", "US/")))
    return choices((n, n.replace("_", " ")) for n in ["UTC", *names])


def category_choices(blank: str | None = None):
    pairs = list(translated(STAKEHOLDER_CATEGORIES))
    return choices(([("", blank)] if blank else []) + pairs)


def level_choices():
    return choices([("", _l("—")), *translated(GOVERNANCE_LEVELS)])


class RoundtableForm(FlaskForm):
    title = StringField(
        _l("Title"), filters=[strip_filter],
        validators=[DataRequired(message=_l("Give the roundtable a title.")), Length(max=200), no_control_characters],
    )
    day = DateField(_l("Date"), validators=[DataRequired(message=_l("Give the date (YYYY-MM-DD)."))])
    start = TimeField(_l("Starts at"), validators=[DataRequired(message=_l("Give the start time (HH:MM)."))])
    end = TimeField(_l("Ends at"), validators=[DataRequired(message=_l("Give the end time (HH:MM)."))])
    timezone = SelectField(_l("Time zone"), default="Europe/Madrid")
    mode = RadioField(_l("Mode"), choices=choices(translated(MODES)), default="in_person")
    place = StringField(
        _l("Place or room"), filters=[strip_filter], validators=[Optional(), Length(max=300), no_control_characters]
    )
    meeting_link = StringField(
        _l("Meeting link"),
        filters=[strip_filter],
        validators=[Optional(), Length(max=500), URL(require_tld=True, message=_l("Give a full web address (https://...)."))],
    )
    agenda = TextAreaField(
        _l("Agenda"), validators=[Optional(), Length(max=MAX_MARKDOWN_LENGTH), no_control_characters],
        description=_l("Markdown: **bold**, *italic*, lists, links."),
    )
    capacity = IntegerField(
        _l("Capacity"), validators=[Optional(), NumberRange(min=0, max=100_000)],
        description=_l("Leave empty for no limit. When full, people go to a waiting list."),
    )
    registration_closes_on = DateField(_l("Registration closes on"), validators=[Optional()])
    registration_closes_at = TimeField(_l("at"), validators=[Optional()], description=_l("In the roundtable's time zone."))
    focus = MultiCheckboxField(_l("GCM objectives in focus"), coerce=int, validators=[Optional()])
    facilitators = TextAreaField(
        _l("Facilitators' e-mails"), validators=[Optional(), Length(max=2000)],
        description=_l("One per line or separated by commas. Facilitators can capture contributions from the room."),
    )
    confirm_overlap = BooleanField(_l("Save even though another roundtable uses this room at the same time"))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.timezone.choices = timezone_choices()
        self.focus.choices = objective_choices()

    def validate(self, extra_validators=None) -> bool:
        valid = super().validate(extra_validators)
        if self.start.data and self.end.data and self.end.data <= self.start.data:
            self.end.errors = [*self.end.errors, "The end time must be after the start time."]
            valid = False
        if self.mode.data in ("online", "hybrid") and not self.meeting_link.data:
            self.meeting_link.errors = [*self.meeting_link.errors, "Online and hybrid roundtables need a meeting link."]
            valid = False
        if self.mode.data in ("in_person", "hybrid") and not self.place.data:
            self.place.errors = [*self.place.errors, "In-person and hybrid roundtables need a place."]
            valid = False
        if bool(self.registration_closes_on.data) != bool(self.registration_closes_at.data):
            self.registration_closes_at.errors = [
                *self.registration_closes_at.errors, "Give both the date and the time registration closes, or neither."
            ]
            valid = False
        return valid

    def facilitator_emails(self) -> list[str]:
        raw = (self.facilitators.data or "").replace(",", "\n").replace(";", "\n")
        return [e.strip() for e in raw.splitlines() if e.strip()]


class RegistrationForm(FlaskForm):
    name = StringField(
        _l("Name of the person (optional)"), filters=[strip_filter],
        validators=[Optional(), Length(max=120), no_control_characters],
        description=_l("Leave empty to register yourself. Your organisation's stakeholder category is always recorded."),
    )
    show_name = BooleanField(_l("List this name publicly on the roundtable page"))


class ActionForm(FlaskForm):
    """CSRF token only."""


class WalkInRow(Form):
    category = SelectField(_l("Stakeholder category"), choices=category_choices("— none —"), validators=[Optional()])
    level = SelectField(_l("Governance level"), choices=level_choices(), validators=[Optional()])
    count = IntegerField(_l("People"), validators=[Optional(), NumberRange(min=1, max=10_000)])

    def is_blank(self) -> bool:
        typed_count = bool(self.count.raw_data and self.count.raw_data[0].strip())
        return not self.category.data and not self.level.data and not typed_count


class AttendanceForm(FlaskForm):
    attended = MultiCheckboxField(_l("Attended"), coerce=int, validators=[Optional()])
    walk_ins = FieldList(FormField(WalkInRow), min_entries=3, max_entries=20)


class MinutesForm(FlaskForm):
    minutes = TextAreaField(
        _l("Minutes"), validators=[DataRequired(message=_l("Write the minutes before publishing them.")),
                               Length(max=MAX_MARKDOWN_LENGTH), no_control_characters],
        description=_l("Markdown. Do not name individuals who did not agree to be named."),
    )


class CaptureRow(Form):
    kind = SelectField(_l("Kind"), choices=choices([("", _l("— empty row —")), *translated(CONTRIBUTION_KINDS)]), validators=[Optional()])
    title = StringField(_l("Title"), filters=[strip_filter], validators=[Optional(), Length(max=200), no_control_characters])
    body = TextAreaField(_l("What was said"), validators=[Optional(), Length(max=MAX_MARKDOWN_LENGTH), no_control_characters])
    objectives = SelectMultipleField(_l("GCM objectives"), coerce=int, validators=[Optional()])
    category = SelectField(_l("Voice (stakeholder category)"), choices=category_choices("— choose —"), validators=[Optional()])
    level = SelectField(_l("Governance level"), choices=level_choices(), validators=[Optional()])

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.objectives.choices = objective_choices()

    def is_blank(self) -> bool:
        return not (self.kind.data or self.title.data or self.body.data or self.objectives.data)

    def check(self) -> bool:
        """Validate one row on its own; required fields are checked here, not by the field list."""
        valid = self.validate()
        required = [
            (self.kind, "Choose challenge, proposal or good practice."),
            (self.title, "Give a title."),
            (self.objectives, "Tag at least one GCM objective."),
            (self.category, "Choose the stakeholder category of the voice."),
        ]
        for field, message in required:
            if not field.data and not field.errors:
                field.errors = [message]
                valid = False
        if self.level.data and self.category.data != "public_administration":
            self.level.errors = [*self.level.errors, "Only public administrations have a governance level."]
            valid = False
        return valid


class CaptureForm(FlaskForm):
    # The language everything in this batch was said in; the consultation's own language
    # unless the facilitator chooses another it accepts (the service checks).
    language = SelectField(_l("Language of these contributions"), validate_choice=False, validators=[Optional()])
    rows = FieldList(FormField(CaptureRow), min_entries=5, max_entries=50)

    def __init__(self, *args, language_choices=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.language.choices = choices(language_choices)


class CarryForwardForm(FlaskForm):
    challenges = MultiCheckboxField(_l("Open challenges"), coerce=int, validators=[Optional()])


class AddressedForm(FlaskForm):
    note = TextAreaField(
        _l("How was it addressed?"), filters=[strip_filter],
        validators=[DataRequired(message=_l("Say how the challenge was addressed.")), Length(max=2000), no_control_characters],
    )


class MemberForm(FlaskForm):
    organisation_id = SelectField(_l("Organisation"), coerce=int)
    status = RadioField(_l("Status"), choices=choices(MEMBER_STATUSES.items()), default="member")
    joined_on = DateField(_l("Joined on"), validators=[DataRequired(message=_l("Give the joining date (YYYY-MM-DD)."))])
    left_on = DateField(_l("Left on"), validators=[Optional()])

    def validate(self, extra_validators=None) -> bool:
        valid = super().validate(extra_validators)
        if self.joined_on.data and self.left_on.data and self.left_on.data < self.joined_on.data:
            self.left_on.errors = [*self.left_on.errors, "The leaving date cannot be before the joining date."]
            valid = False
        return valid
