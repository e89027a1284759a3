from __future__ import annotations

import secrets
from datetime import datetime

from flask_login import UserMixin
from sqlalchemy import CheckConstraint, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column, relationship
from werkzeug.security import check_password_hash, generate_password_hash

from ..extensions import db
from ..timeutil import utcnow

ROLES = ("admin", "organiser", "participant", "reviewer")
ROLE_LABELS = {
    "admin": "Administrator",
    "organiser": "Organiser",
    "participant": "Participant",
    "reviewer": "Reviewer (government staff)",
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
