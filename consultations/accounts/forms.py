from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import BooleanField, EmailField, PasswordField, RadioField, SelectField, StringField
from wtforms.validators import DataRequired, Email, EqualTo, Length, Optional, ValidationError

from ..forms import choices, no_control_characters, strip_filter, translated
from ..reference import GOVERNANCE_LEVELS, STAKEHOLDER_CATEGORIES
from .models import ROLE_LABELS
from .passwords import MIN_PASSWORD_LENGTH, password_problem
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l


def acceptable_password(form, field):
    """Length and the common-passwords list (the services check the same again)."""
    if len(field.data or "") < MIN_PASSWORD_LENGTH:
        return  # Length() says so already
    email = form.email.data if hasattr(form, "email") else None
    problem = password_problem(field.data, email=email)
    if problem:
        raise ValidationError(problem)


PASSWORD_HELP = _l(
    "At least %(min)s characters, and not one of the most common passwords. A few unrelated words make a good one.",
    min=MIN_PASSWORD_LENGTH,
)

CATEGORY_CHOICES = choices(translated(STAKEHOLDER_CATEGORIES))
LEVEL_CHOICES = choices([("", _l("— not a public administration —")), *translated(GOVERNANCE_LEVELS)])


def _new_password_fields(name: str, label, repeat_label):
    """A password being chosen, as the form's field ``name``, and the field ``confirm`` repeating it."""
    password = PasswordField(
        label,
        validators=[
            DataRequired(),
            Length(min=MIN_PASSWORD_LENGTH, max=200, message=_l("Use at least %(min)s characters (and at most 200).", min=MIN_PASSWORD_LENGTH)),
            acceptable_password,
        ],
        description=PASSWORD_HELP,
    )
    confirm = PasswordField(
        repeat_label,
        validators=[DataRequired(), EqualTo(name, message=_l("The two passwords differ."))],
    )
    return password, confirm


class RegisterForm(FlaskForm):
    email = EmailField(
        _l("E-mail"),
        filters=[strip_filter],
        validators=[DataRequired(), Length(max=254), Email(check_deliverability=False)],
    )
    display_name = StringField(
        _l("Your name"),
        filters=[strip_filter],
        validators=[DataRequired(), Length(max=120), no_control_characters],
        description=_l("Shown to organisers only; never in public lists or downloads."),
    )
    password, confirm = _new_password_fields("password", _l("Password"), _l("Repeat the password"))
    acts_as = RadioField(
        _l("I take part"),
        choices=choices([("individual", _l("As an individual")), ("organisation", _l("For an organisation"))]),
        default="individual",
        validators=[DataRequired()],
    )
    individual_category = SelectField(
        _l("Which stakeholder category describes you best?"),
        choices=CATEGORY_CHOICES,
        default="other",
        validators=[Optional()],
    )
    organisation_name = StringField(
        _l("Organisation name"),
        filters=[strip_filter],
        validators=[Optional(), Length(max=200), no_control_characters],
        description=_l("A new organisation. If yours is already registered, ask an administrator to add you to it."),
    )
    organisation_category = SelectField(
        _l("Organisation's stakeholder category"), choices=CATEGORY_CHOICES, default="ngo"
    )
    governance_level = SelectField(
        _l("Governance level (public administrations only)"), choices=LEVEL_CHOICES, default=""
    )

    def validate(self, extra_validators=None) -> bool:
        valid = super().validate(extra_validators)
        if self.acts_as.data != "organisation":
            return valid
        # Checks across fields (Optional() would stop a per-field check on empty input).
        if not self.organisation_name.data:
            self.organisation_name.errors.append(_("Give the name of your organisation."))
            valid = False
        is_public = self.organisation_category.data == "public_administration"
        if is_public and not self.governance_level.data:
            self.governance_level.errors.append(_("A public administration needs its governance level."))
            valid = False
        if not is_public and self.governance_level.data:
            self.governance_level.errors.append(_("Only public administrations have a governance level."))
            valid = False
        return valid


class LoginForm(FlaskForm):
    email = EmailField(_l("E-mail"), filters=[strip_filter], validators=[DataRequired(), Length(max=254)])
    password = PasswordField(_l("Password"), validators=[DataRequired(), Length(max=200)])


class PasswordChangeForm(FlaskForm):
    current_password = PasswordField(_l("Current password"), validators=[DataRequired(), Length(max=200)])
    new_password, confirm = _new_password_fields("new_password", _l("New password"), _l("Repeat the new password"))


class UserAdminForm(FlaskForm):
    role = SelectField(_l("Role"), choices=choices(translated(ROLE_LABELS)))
    organisation_id = SelectField(_l("Organisation"), coerce=int, validate_choice=True)


class UserSearchForm(FlaskForm):
    class Meta:
        csrf = False

    q = StringField(_l("Search by name or e-mail"), filters=[strip_filter], validators=[Optional(), Length(max=200)])


class ForgotPasswordForm(FlaskForm):
    email = EmailField(
        _l("E-mail"),
        filters=[strip_filter],
        validators=[DataRequired(), Length(max=254), Email(check_deliverability=False)],
        description=_l("The address of your account. We send a link to choose a new password."),
    )


class ResetPasswordForm(FlaskForm):
    new_password, confirm = _new_password_fields("new_password", _l("New password"), _l("Repeat the new password"))


class ExportDataForm(FlaskForm):
    """Only the CSRF token: the download is a POST so that it cannot be triggered from elsewhere."""


CONTRIBUTION_CHOICES = choices(
    [
        ("keep", _l("Keep my contributions, without my name or account: they stay part of the consultations' results")),
        ("delete", _l("Delete my contributions too")),
    ]
)


class DeleteAccountForm(FlaskForm):
    contributions = RadioField(
        _l("What happens to your contributions?"),
        choices=CONTRIBUTION_CHOICES,
        default="keep",
        validators=[DataRequired(message=_l("Choose what happens to your contributions."))],
        description=_l("Kept contributions show their stakeholder category only; your organisation's name stays only where you chose to show it."),
    )
    password = PasswordField(
        _l("Your password"),
        validators=[DataRequired(message=_l("Type your password to confirm it is you.")), Length(max=200)],
    )
    confirm = BooleanField(
        _l("I understand that my account is deleted for good"),
        validators=[DataRequired(message=_l("Tick this box to confirm."))],
    )
