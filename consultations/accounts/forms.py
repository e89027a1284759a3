from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import BooleanField, EmailField, PasswordField, RadioField, SelectField, StringField
from wtforms.validators import DataRequired, Email, EqualTo, Length, Optional, ValidationError

from ..forms import choices, no_control_characters, strip_filter
from ..reference import GOVERNANCE_LEVELS, STAKEHOLDER_CATEGORIES
from .models import ROLE_LABELS
from .passwords import MIN_PASSWORD_LENGTH, password_problem


def acceptable_password(form, field):
    """Length and the common-passwords list (the services check the same again)."""
    if len(field.data or "") < MIN_PASSWORD_LENGTH:
        return  # Length() says so already
    email = form.email.data if hasattr(form, "email") else None
    problem = password_problem(field.data, email=email)
    if problem:
        raise ValidationError(problem)


PASSWORD_HELP = f"At least {MIN_PASSWORD_LENGTH} characters, and not one of the most common passwords. A few unrelated words make a good one."

CATEGORY_CHOICES = choices(STAKEHOLDER_CATEGORIES.items())
LEVEL_CHOICES = choices([("", "— not a public administration —"), *GOVERNANCE_LEVELS.items()])


class RegisterForm(FlaskForm):
    email = EmailField(
        "E-mail",
        filters=[strip_filter],
        validators=[DataRequired(), Length(max=254), Email(check_deliverability=False)],
    )
    display_name = StringField(
        "Your name",
        filters=[strip_filter],
        validators=[DataRequired(), Length(max=120), no_control_characters],
        description="Shown to organisers only; never in public lists or downloads.",
    )
    password = PasswordField(
        "Password",
        validators=[
            DataRequired(),
            Length(min=MIN_PASSWORD_LENGTH, max=200, message=f"Use at least {MIN_PASSWORD_LENGTH} characters (and at most 200)."),
            acceptable_password,
        ],
        description=PASSWORD_HELP,
    )
    confirm = PasswordField(
        "Repeat the password",
        validators=[DataRequired(), EqualTo("password", message="The two passwords differ.")],
    )
    acts_as = RadioField(
        "I take part",
        choices=choices([("individual", "As an individual"), ("organisation", "For an organisation")]),
        default="individual",
        validators=[DataRequired()],
    )
    individual_category = SelectField(
        "Which stakeholder category describes you best?",
        choices=CATEGORY_CHOICES,
        default="other",
        validators=[Optional()],
    )
    organisation_name = StringField(
        "Organisation name",
        filters=[strip_filter],
        validators=[Optional(), Length(max=200), no_control_characters],
        description="A new organisation. If yours is already registered, ask an administrator to add you to it.",
    )
    organisation_category = SelectField(
        "Organisation's stakeholder category", choices=CATEGORY_CHOICES, default="ngo"
    )
    governance_level = SelectField(
        "Governance level (public administrations only)", choices=LEVEL_CHOICES, default=""
    )

    def validate(self, extra_validators=None) -> bool:
        valid = super().validate(extra_validators)
        if self.acts_as.data != "organisation":
            return valid
        # Checks across fields (Optional() would stop a per-field check on empty input).
        if not self.organisation_name.data:
            self.organisation_name.errors.append("Give the name of your organisation.")
            valid = False
        is_public = self.organisation_category.data == "public_administration"
        if is_public and not self.governance_level.data:
            self.governance_level.errors.append("A public administration needs its governance level.")
            valid = False
        if not is_public and self.governance_level.data:
            self.governance_level.errors.append("Only public administrations have a governance level.")
            valid = False
        return valid


class LoginForm(FlaskForm):
    email = EmailField("E-mail", filters=[strip_filter], validators=[DataRequired(), Length(max=254)])
    password = PasswordField("Password", validators=[DataRequired(), Length(max=200)])


class PasswordChangeForm(FlaskForm):
    current_password = PasswordField("Current password", validators=[DataRequired(), Length(max=200)])
    new_password = PasswordField(
        "New password",
        validators=[
            DataRequired(),
            Length(min=MIN_PASSWORD_LENGTH, max=200, message=f"Use at least {MIN_PASSWORD_LENGTH} characters (and at most 200)."),
            acceptable_password,
        ],
        description=PASSWORD_HELP,
    )
    confirm = PasswordField(
        "Repeat the new password",
        validators=[DataRequired(), EqualTo("new_password", message="The two passwords differ.")],
    )


class UserAdminForm(FlaskForm):
    role = SelectField("Role", choices=choices(ROLE_LABELS.items()))
    organisation_id = SelectField("Organisation", coerce=int, validate_choice=True)


class UserSearchForm(FlaskForm):
    class Meta:
        csrf = False

    q = StringField("Search by name or e-mail", filters=[strip_filter], validators=[Optional(), Length(max=200)])


class ForgotPasswordForm(FlaskForm):
    email = EmailField(
        "E-mail",
        filters=[strip_filter],
        validators=[DataRequired(), Length(max=254), Email(check_deliverability=False)],
        description="The address of your account. We send a link to choose a new password.",
    )


class ResetPasswordForm(FlaskForm):
    new_password = PasswordField(
        "New password",
        validators=[
            DataRequired(),
            Length(min=MIN_PASSWORD_LENGTH, max=200, message=f"Use at least {MIN_PASSWORD_LENGTH} characters (and at most 200)."),
            acceptable_password,
        ],
        description=PASSWORD_HELP,
    )
    confirm = PasswordField(
        "Repeat the new password",
        validators=[DataRequired(), EqualTo("new_password", message="The two passwords differ.")],
    )


class ExportDataForm(FlaskForm):
    """Only the CSRF token: the download is a POST so that it cannot be triggered from elsewhere."""


CONTRIBUTION_CHOICES = choices(
    [
        ("keep", "Keep my contributions, without my name or account: they stay part of the consultations' results"),
        ("delete", "Delete my contributions too"),
    ]
)


class DeleteAccountForm(FlaskForm):
    contributions = RadioField(
        "What happens to your contributions?",
        choices=CONTRIBUTION_CHOICES,
        default="keep",
        validators=[DataRequired(message="Choose what happens to your contributions.")],
        description="Kept contributions show their stakeholder category only; your organisation's name stays only where you chose to show it.",
    )
    password = PasswordField(
        "Your password",
        validators=[DataRequired(message="Type your password to confirm it is you."), Length(max=200)],
    )
    confirm = BooleanField(
        "I understand that my account is deleted for good",
        validators=[DataRequired(message="Tick this box to confirm.")],
    )
