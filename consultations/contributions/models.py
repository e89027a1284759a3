from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import (
    Date,
    false,
    Boolean,
    CheckConstraint,
    Column,
    ForeignKey,
    Index,
    Integer,
    String,
    Table,
    Text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship


from ..extensions import db
from ..reference import STAKEHOLDER_CATEGORIES
from ..timeutil import today, utcnow

_categories = ", ".join(f"'{c}'" for c in STAKEHOLDER_CATEGORIES)

# active: listed and counted; withdrawn: by its author; hidden: by an organiser, with a
# reason shown to the author; pending: waiting for approval (pre-moderated consultation).
STATUSES = ("active", "withdrawn", "hidden", "pending")

# A proposal answers one or more challenges of the same consultation.
proposal_answers = Table(
    "proposal_answers",
    db.metadata,
    Column("proposal_id", ForeignKey("contributions.id", ondelete="CASCADE"), primary_key=True),
    Column(
        "challenge_id",
        ForeignKey("contributions.id", ondelete="CASCADE"),
        primary_key=True,
        index=True,
    ),
)


class ContributionObjective(db.Model):
    __tablename__ = "contribution_objectives"
    __table_args__ = (
        CheckConstraint("objective BETWEEN 1 AND 23", name="objective"),
        Index("ix_contribution_objectives_objective_contribution", "objective", "contribution_id"),
    )

    contribution_id: Mapped[int] = mapped_column(
        ForeignKey("contributions.id", ondelete="CASCADE"), primary_key=True
    )
    objective: Mapped[int] = mapped_column(Integer, primary_key=True)


class ContributionPrinciple(db.Model):
    __tablename__ = "contribution_principles"

    contribution_id: Mapped[int] = mapped_column(
        ForeignKey("contributions.id", ondelete="CASCADE"), primary_key=True
    )
    principle: Mapped[str] = mapped_column(String(40), primary_key=True, index=True)


class Flag(db.Model):
    """Someone reported a contribution. No screen shows who did; for a report made while
    logged in, ``reporter_id`` lets its text be deleted with the account."""

    __tablename__ = "flags"

    id: Mapped[int] = mapped_column(primary_key=True)
    contribution_id: Mapped[int] = mapped_column(
        ForeignKey("contributions.id", ondelete="CASCADE"), index=True
    )
    reason: Mapped[str] = mapped_column(Text)
    reporter_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"), index=True)
    created_on: Mapped[date] = mapped_column(Date, default=today)
    resolved: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false(), index=True)


class Contribution(db.Model):
    __tablename__ = "contributions"
    __table_args__ = (
        CheckConstraint("kind IN ('challenge', 'proposal', 'good_practice')", name="kind"),
        CheckConstraint("status IN ('active', 'withdrawn', 'hidden', 'pending')", name="status"),
        CheckConstraint(f"stakeholder_category IN ({_categories})", name="category"),
        Index("ix_contributions_consultation_status_created", "consultation_id", "status", "created_at"),
        # Pages a roundtable's contributions in id order, and the challenge picker a
        # consultation's open challenges newest first, without reading other rows (issue 14).
        Index("ix_contributions_roundtable_status_id", "roundtable_id", "status", "id"),
        Index("ix_contributions_consultation_kind_status_id", "consultation_id", "kind", "status", "id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    consultation_id: Mapped[int] = mapped_column(
        ForeignKey("consultations.id", ondelete="CASCADE"), index=True
    )
    kind: Mapped[str] = mapped_column(String(20), index=True)
    title: Mapped[str] = mapped_column(String(200))
    body_md: Mapped[str] = mapped_column(Text, default="")
    body_html: Mapped[str] = mapped_column(Text, default="")
    # The language the contribution is written in (a code of reference.LANGUAGES).
    language: Mapped[str] = mapped_column(String(10), default="en", server_default="en", index=True)
    author_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), index=True
    )
    # Recorded as they were at submission time.
    organisation_id: Mapped[int | None] = mapped_column(
        ForeignKey("organisations.id", ondelete="SET NULL"), index=True
    )
    organisation_name: Mapped[str | None] = mapped_column(String(200))
    stakeholder_category: Mapped[str] = mapped_column(String(40), index=True)
    governance_level: Mapped[str | None] = mapped_column(String(20), index=True)
    # The contributor agreed that the organisation be named with this contribution.
    name_organisation: Mapped[bool] = mapped_column(Boolean, default=False)
    status: Mapped[str] = mapped_column(String(20), default="active", index=True)
    # Raised at this roundtable (captured from the room, or submitted for it).
    roundtable_id: Mapped[int | None] = mapped_column(
        ForeignKey("roundtables.id", ondelete="SET NULL"), index=True
    )
    # Entered by a facilitator from what was said in the room: no individual named.
    captured: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    # For challenges: marked addressed by an organiser, with a note.
    addressed_at: Mapped[datetime | None]
    addressed_note: Mapped[str] = mapped_column(Text, default="", server_default="")
    # Submitted through a consultation's anonymous link: no account, no identity, and
    # created_at holds the date only. The secret code to edit it is stored hashed.
    anonymous: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    edit_code_hash: Mapped[str | None] = mapped_column(String(128))
    # Input collected by an association from people without an account.
    on_behalf: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    on_behalf_note: Mapped[str] = mapped_column(String(300), default="", server_default="")
    # Why an organiser hid it (shown to its author).
    moderation_note: Mapped[str] = mapped_column(Text, default="", server_default="")
    # A random key carried by the form: the same submission sent twice (double click,
    # retried request) stores one contribution.
    submission_key: Mapped[str | None] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    consultation: Mapped["Consultation"] = relationship()  # noqa: F821
    roundtable: Mapped["Roundtable | None"] = relationship()  # noqa: F821
    author: Mapped["User | None"] = relationship()  # noqa: F821
    objectives: Mapped[list[ContributionObjective]] = relationship(
        cascade="all, delete-orphan", order_by=ContributionObjective.objective
    )
    principles: Mapped[list[ContributionPrinciple]] = relationship(
        cascade="all, delete-orphan", order_by=ContributionPrinciple.principle
    )
    answers: Mapped[list["Contribution"]] = relationship(
        secondary=proposal_answers,
        primaryjoin=id == proposal_answers.c.proposal_id,
        secondaryjoin=id == proposal_answers.c.challenge_id,
        back_populates="answered_by",
        order_by="Contribution.id",
    )
    answered_by: Mapped[list["Contribution"]] = relationship(
        secondary=proposal_answers,
        primaryjoin=id == proposal_answers.c.challenge_id,
        secondaryjoin=id == proposal_answers.c.proposal_id,
        back_populates="answers",
        order_by="Contribution.id",
    )

    @property
    def objective_numbers(self) -> list[int]:
        return [o.objective for o in self.objectives]

    @property
    def principle_keys(self) -> list[str]:
        return [p.principle for p in self.principles]

    @property
    def is_active(self) -> bool:
        return self.status == "active"

    @property
    def intermediary(self) -> str | None:
        """For input collected on behalf of others: the association that collected it."""
        return self.organisation_name if self.on_behalf else None

    @property
    def voice(self) -> str:
        """Who spoke, as shown publicly (see contributions/voice.py)."""
        from .voice import voice_of

        return voice_of(self)

    def __repr__(self) -> str:
        return f"<Contribution {self.id} {self.kind}>"
