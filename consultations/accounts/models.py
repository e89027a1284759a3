from __future__ import annotations

import secrets
from datetime import datetime

from flask_login import UserMixin
from sqlalchemy import CheckConstraint, ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column, relationship
from werkzeug.security import check_password_hash, generate_password_hash

from ..extensions import db
from ..reference import N_
from ..timeutil import utcnow

ROLES = ("admin", "organiser", "participant", "reviewer")
ROLE_LABELS = {
    "admin": N_("Administrator"),
    "organiser": N_("Organiser"),
    "participant": N_("Participant"),
    "reviewer": N_("Reviewer (government staff)"),
}


def _new_token() -> str:
    return secrets.token_urlsafe(24)


class User(UserMixin, db.Model):
    __tablename__ = "users"
    __table_args__ = (
        CheckConstraint("role IN ('admin', 'organiser', 'participant', 'reviewer')", name="role"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(254), unique=True)
    display_name: Mapped[str] = mapped_column(String(120))
    password_hash: Mapped[str] = mapped_column(String(255))
    role: Mapped[str] = mapped_column(String(20), default="participant", index=True)
    organisation_id: Mapped[int | None] = mapped_column(
        ForeignKey("organisations.id", ondelete="SET NULL"), index=True
    )
    # Stakeholder category of a person who acts as an individual (no organisation).
    individual_category: Mapped[str] = mapped_column(String(40), default="other")
    # Part of the session identifier: changing it ends every session of this user.
    session_token: Mapped[str] = mapped_column(String(64), default=_new_token)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    # Set when the owner of the address followed the link we sent to it; a self-registered
    # account may log in only once it is set. Accounts made by admins or the CLI start confirmed.
    email_confirmed_at: Mapped[datetime | None]
    # The interface language this person chose with the switcher (None: not chosen).
    locale: Mapped[str | None] = mapped_column(String(10))

    organisation: Mapped["Organisation | None"] = relationship(  # noqa: F821
        back_populates="members", lazy="joined"
    )

    def set_password(self, password: str) -> None:
        # Werkzeug's default is scrypt, a memory-hard KDF.
        self.password_hash = generate_password_hash(password)

    def check_password(self, password: str) -> bool:
        return check_password_hash(self.password_hash, password)

    def get_id(self) -> str:
        return f"{self.id}:{self.session_token}"

    def end_sessions(self) -> None:
        self.session_token = _new_token()

    @property
    def email_confirmed(self) -> bool:
        return self.email_confirmed_at is not None

    @property
    def is_admin(self) -> bool:
        return self.role == "admin"

    @property
    def stakeholder_category(self) -> str:
        if self.organisation is not None:
            return self.organisation.category
        return self.individual_category

    @property
    def governance_level(self) -> str | None:
        return self.organisation.governance_level if self.organisation is not None else None

    def __repr__(self) -> str:
        return f"<User {self.id} {self.role}>"


TOKEN_PURPOSES = ("confirm_email", "reset_password")


class AccountToken(db.Model):
    """A single-use secret sent by e-mail (confirm an address, reset a password).

    Only the SHA-256 of the secret is stored: a copy of the database cannot be used to
    take over accounts.
    """

    __tablename__ = "account_tokens"
    __table_args__ = (
        CheckConstraint("purpose IN ('confirm_email', 'reset_password')", name="purpose"),
        Index("ix_account_tokens_user_purpose", "user_id", "purpose"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    purpose: Mapped[str] = mapped_column(String(20))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime]
    used_at: Mapped[datetime | None]

    user: Mapped[User] = relationship()

    def __repr__(self) -> str:
        return f"<AccountToken {self.id} {self.purpose}>"
