"""Accounts: registration, authentication, roles."""
from __future__ import annotations

from sqlalchemy import func, select
from werkzeug.security import check_password_hash, generate_password_hash

from ..extensions import db
from ..organisations.models import Organisation
from .models import ROLES, User

MIN_PASSWORD_LENGTH = 10
# Compared against when the e-mail is unknown, so both cases cost the same time.
_DUMMY_HASH = generate_password_hash("mesa-dummy-password")


class AccountError(ValueError):
    """A rule about accounts was broken; ``field`` names the form field concerned."""

    def __init__(self, message: str, field: str | None = None):
        super().__init__(message)
        self.field = field


def normalise_email(email: str) -> str:
    return (email or "").strip().lower()


def find_by_email(email: str) -> User | None:
    return db.session.scalar(select(User).where(User.email == normalise_email(email)))


def register_user(
    email: str,
    display_name: str,
    password: str,
    *,
    role: str = "participant",
    organisation: Organisation | None = None,
    individual_category: str = "other",
) -> User:
    if role not in ROLES:
        raise AccountError(f"Unknown role {role!r}.", "role")
    if len(password) < MIN_PASSWORD_LENGTH:
        raise AccountError(f"Use at least {MIN_PASSWORD_LENGTH} characters.", "password")
    if find_by_email(email) is not None:
        raise AccountError("An account with this e-mail already exists. Log in instead.", "email")
    user = User(
        email=normalise_email(email),
        display_name=display_name.strip(),
        role=role,
        organisation=organisation,
        individual_category=individual_category,
    )
    user.set_password(password)
    db.session.add(user)
    db.session.flush()
    return user


def authenticate(email: str, password: str) -> User | None:
    user = find_by_email(email)
    if user is None:
        check_password_hash(_DUMMY_HASH, password)
        return None
    return user if user.check_password(password) else None


def change_password(user: User, current: str, new: str) -> None:
    if not user.check_password(current):
        raise AccountError("The current password is not right.", "current_password")
    if len(new) < MIN_PASSWORD_LENGTH:
        raise AccountError(f"Use at least {MIN_PASSWORD_LENGTH} characters.", "new_password")
    user.set_password(new)
    # Every other session of this person ends; the caller logs this one in again.
    user.end_sessions()
    db.session.flush()


def set_role(user: User, role: str) -> User:
    if role not in ROLES:
        raise AccountError(f"Unknown role {role!r}.", "role")
    user.role = role
    db.session.flush()
    return user


def count_admins() -> int:
    return db.session.scalar(select(func.count()).select_from(User).where(User.role == "admin"))


def search_users(q: str | None):
    stmt = select(User).order_by(User.display_name, User.id)
    if q:
        stmt = stmt.where(User.email.icontains(q, autoescape=True) | User.display_name.icontains(q, autoescape=True))
    return stmt
