from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    Column,
    Date,
    ForeignKey,
    Index,
    Integer,
    String,
    Table,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import db
from ..reference import N_, STAKEHOLDER_CATEGORIES
from ..timeutil import utcnow

_categories = ", ".join(f"'{c}'" for c in STAKEHOLDER_CATEGORIES)

MODES = {"in_person": N_("In person"), "online": N_("Online"), "hybrid": N_("Hybrid")}
REGISTRATION_STATUSES = ("confirmed", "waitlisted", "cancelled")
MEMBER_STATUSES = {"member": "Member", "observer": "Observer"}

roundtable_facilitators = Table(
    "roundtable_facilitators",
    db.metadata,
    Column("roundtable_id", ForeignKey("roundtables.id", ondelete="CASCADE"), primary_key=True),
    Column("user_id", ForeignKey("users.id", ondelete="CASCADE"), primary_key=True, index=True),
)


class RoundtableObjective(db.Model):
    __tablename__ = "roundtable_objectives"
    __table_args__ = (CheckConstraint("objective BETWEEN 1 AND 23", name="objective"),)

    roundtable_id: Mapped[int] = mapped_column(
        ForeignKey("roundtables.id", ondelete="CASCADE"), primary_key=True
    )
    objective: Mapped[int] = mapped_column(Integer, primary_key=True)


class Roundtable(db.Model):
    """One meeting (session) of a consultation."""

    __tablename__ = "roundtables"
    __table_args__ = (
        CheckConstraint("mode IN ('in_person', 'online', 'hybrid')", name="mode"),
        CheckConstraint("ends_at > starts_at", name="times"),
        CheckConstraint("capacity IS NULL OR capacity >= 0", name="capacity"),
        CheckConstraint("seats_taken >= 0", name="seats_taken"),
        CheckConstraint("capacity IS NULL OR seats_taken <= capacity", name="seats_within_capacity"),
        Index("ix_roundtables_consultation_starts", "consultation_id", "starts_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    consultation_id: Mapped[int] = mapped_column(
        ForeignKey("consultations.id", ondelete="CASCADE"), index=True
    )
    title: Mapped[str] = mapped_column(String(200))
    # Stored in UTC; shown in the roundtable's own time zone.
    starts_at: Mapped[datetime] = mapped_column(index=True)
    ends_at: Mapped[datetime]
    timezone: Mapped[str] = mapped_column(String(64), default="Europe/Madrid")
    mode: Mapped[str] = mapped_column(String(20), default="in_person")
    place: Mapped[str] = mapped_column(String(300), default="")
    meeting_link: Mapped[str] = mapped_column(String(500), default="")
    agenda_md: Mapped[str] = mapped_column(Text, default="")
    agenda_html: Mapped[str] = mapped_column(Text, default="")
    capacity: Mapped[int | None] = mapped_column(Integer)
    # Confirmed registrations, kept in step by the services with one conditional UPDATE
    # so that two people can never take the last seat at the same moment.
    seats_taken: Mapped[int] = mapped_column(Integer, default=0)
    registration_closes_at: Mapped[datetime | None]
    minutes_md: Mapped[str] = mapped_column(Text, default="")
    minutes_html: Mapped[str] = mapped_column(Text, default="")
    minutes_published_at: Mapped[datetime | None]
    attendance_recorded_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    consultation: Mapped["Consultation"] = relationship()  # noqa: F821
    facilitators: Mapped[list["User"]] = relationship(  # noqa: F821
        secondary=roundtable_facilitators, order_by="User.display_name", lazy="selectin"
    )
    focus: Mapped[list[RoundtableObjective]] = relationship(
        cascade="all, delete-orphan", order_by=RoundtableObjective.objective, lazy="selectin"
    )
    walk_ins: Mapped[list["WalkIn"]] = relationship(
        cascade="all, delete-orphan", back_populates="roundtable"
    )

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    def local(self, moment: datetime) -> datetime:
        return moment.replace(tzinfo=ZoneInfo("UTC")).astimezone(self.zone)

    @property
    def local_start(self) -> datetime:
        return self.local(self.starts_at)

    @property
    def local_end(self) -> datetime:
        return self.local(self.ends_at)

    @property
    def local_registration_closes(self) -> datetime | None:
        return self.local(self.registration_closes_at) if self.registration_closes_at else None

    @property
    def focus_numbers(self) -> list[int]:
        return [f.objective for f in self.focus]

    def is_facilitator(self, user) -> bool:
        return user is not None and any(f.id == user.id for f in self.facilitators)

    @property
    def seats_left(self) -> int | None:
        return None if self.capacity is None else max(self.capacity - self.seats_taken, 0)

    def __repr__(self) -> str:
        return f"<Roundtable {self.id}>"


class Registration(db.Model):
    """A person registered for a roundtable by someone of their organisation (or themself)."""

    __tablename__ = "registrations"
    __table_args__ = (
        CheckConstraint("status IN ('confirmed', 'waitlisted', 'cancelled')", name="status"),
        CheckConstraint(f"stakeholder_category IN ({_categories})", name="category"),
        # The same person once per roundtable (cancelled registrations do not count).
        Index(
            "uq_registrations_person",
            "roundtable_id",
            "registered_by_id",
            "person_key",
            unique=True,
            sqlite_where=Column("status") != "cancelled",
            postgresql_where=Column("status") != "cancelled",
        ),
        Index("ix_registrations_roundtable_status_created", "roundtable_id", "status", "created_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    roundtable_id: Mapped[int] = mapped_column(ForeignKey("roundtables.id", ondelete="CASCADE"))
    registered_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), index=True
    )
    # Optional; shown publicly only when show_name is set.
    name: Mapped[str] = mapped_column(String(120), default="")
    show_name: Mapped[bool] = mapped_column(Boolean, default=False)
    person_key: Mapped[str] = mapped_column(String(140))
    organisation_id: Mapped[int | None] = mapped_column(
        ForeignKey("organisations.id", ondelete="SET NULL"), index=True
    )
    stakeholder_category: Mapped[str] = mapped_column(String(40), index=True)
    governance_level: Mapped[str | None] = mapped_column(String(20))
    status: Mapped[str] = mapped_column(String(20), default="confirmed")
    attended: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    cancelled_at: Mapped[datetime | None]

    roundtable: Mapped[Roundtable] = relationship()
    registered_by: Mapped["User | None"] = relationship()  # noqa: F821

    def __repr__(self) -> str:
        return f"<Registration {self.id} {self.status}>"


class WalkIn(db.Model):
    """People who attended without registering, counted by category only."""

    __tablename__ = "walk_ins"
    __table_args__ = (
        CheckConstraint(f"stakeholder_category IN ({_categories})", name="category"),
        CheckConstraint("count > 0", name="count"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    roundtable_id: Mapped[int] = mapped_column(
        ForeignKey("roundtables.id", ondelete="CASCADE"), index=True
    )
    stakeholder_category: Mapped[str] = mapped_column(String(40))
    governance_level: Mapped[str | None] = mapped_column(String(20))
    count: Mapped[int] = mapped_column(Integer)

    roundtable: Mapped[Roundtable] = relationship(back_populates="walk_ins")


class ChallengeDiscussion(db.Model):
    """A challenge carried forward to (discussed at) a later roundtable."""

    __tablename__ = "challenge_discussions"
    __table_args__ = (UniqueConstraint("contribution_id", "roundtable_id", name="once"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    contribution_id: Mapped[int] = mapped_column(
        ForeignKey("contributions.id", ondelete="CASCADE"), index=True
    )
    roundtable_id: Mapped[int] = mapped_column(
        ForeignKey("roundtables.id", ondelete="CASCADE"), index=True
    )
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    roundtable: Mapped[Roundtable] = relationship()
    contribution: Mapped["Contribution"] = relationship()  # noqa: F821


class CouncilMember(db.Model):
    """An organisation's membership of a standing body (a consultation of kind local council)."""

    __tablename__ = "council_members"
    __table_args__ = (
        CheckConstraint("status IN ('member', 'observer')", name="status"),
        CheckConstraint("left_on IS NULL OR left_on >= joined_on", name="dates"),
        Index("ix_council_members_consultation_status", "consultation_id", "status"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    consultation_id: Mapped[int] = mapped_column(
        ForeignKey("consultations.id", ondelete="CASCADE"), index=True
    )
    organisation_id: Mapped[int] = mapped_column(
        ForeignKey("organisations.id", ondelete="CASCADE"), index=True
    )
    status: Mapped[str] = mapped_column(String(20), default="member")
    joined_on: Mapped[date] = mapped_column(Date)
    left_on: Mapped[date | None] = mapped_column(Date)

    organisation: Mapped["Organisation"] = relationship(lazy="joined")  # noqa: F821

    @property
    def is_current(self) -> bool:
        from ..timeutil import today

        return self.left_on is None or self.left_on >= today()
