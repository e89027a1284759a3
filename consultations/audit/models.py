from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import db
from ..timeutil import utcnow


class AuditEvent(db.Model):
    """One organiser or admin action (or a person's action on their own data).

    ``actor_id`` deliberately has no foreign key: when an account is deleted its events
    keep the number, so the log cannot be erased by deleting the account that acted.
    ``details`` holds identifiers and values, never personal data (see ``services.record``).
    """

    __tablename__ = "audit_events"
    __table_args__ = (
        Index("ix_audit_events_target", "target_type", "target_id"),
        Index("ix_audit_events_action_created", "action", "created_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    actor_id: Mapped[int | None] = mapped_column(Integer, index=True)
    action: Mapped[str] = mapped_column(String(60))
    target_type: Mapped[str | None] = mapped_column(String(40))
    target_id: Mapped[int | None] = mapped_column(Integer)
    details: Mapped[dict] = mapped_column(JSON, default=dict)

    actor: Mapped["User | None"] = relationship(  # noqa: F821
        "User",
        primaryjoin="foreign(AuditEvent.actor_id) == User.id",
        lazy="joined",
        viewonly=True,
    )

    def __repr__(self) -> str:
        return f"<AuditEvent {self.id} {self.action}>"


