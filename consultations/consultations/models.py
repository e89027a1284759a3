from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Boolean, CheckConstraint, Column, ForeignKey, Integer, String, Table, Text, false
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import db
from ..reference import CONSULTATION_KINDS, N_
from ..timeutil import utcnow

STATES = ("draft", "open", "closed", "published")
STATE_LABELS = {"draft": N_("Draft"), "open": N_("Open"), "closed": N_("Closed"), "published": N_("Published")}
# Allowed lifecycle moves: a closed consultation may be reopened before it is published.
TRANSITIONS: dict[str, tuple[str, ...]] = {
    "draft": ("open",),
    "open": ("closed",),
    "closed": ("open", "published"),
    "published": (),
}
ELIGIBILITY = {
    "registered": N_("Anyone registered"),
    "invited": N_("Only invited organisations"),
}
VISIBLE_STATES = ("open", "closed", "published")

_kinds = ", ".join(f"'{k}'" for k in CONSULTATION_KINDS)


class IllegalTransition(Exception):
    def __init__(self, current: str, target: str):
        super().__init__(f"A consultation cannot go from {current} to {target}.")
        self.current = current
        self.target = target


consultation_organisers = Table(
    "consultation_organisers",
    db.metadata,
    Column("consultation_id", ForeignKey("consultations.id", ondelete="CASCADE"), primary_key=True),
    Column("user_id", ForeignKey("users.id", ondelete="CASCADE"), primary_key=True, index=True),
)

consultation_invitations = Table(
    "consultation_invitations",
    db.metadata,
    Column("consultation_id", ForeignKey("consultations.id", ondelete="CASCADE"), primary_key=True),
    Column(
        "organisation_id",
        ForeignKey("organisations.id", ondelete="CASCADE"),
        primary_key=True,
        index=True,
    ),
)


class ConsultationObjective(db.Model):
    """A GCM objective in focus for a consultation."""

    __tablename__ = "consultation_objectives"
    __table_args__ = (CheckConstraint("objective BETWEEN 1 AND 23", name="objective"),)

    consultation_id: Mapped[int] = mapped_column(
        ForeignKey("consultations.id", ondelete="CASCADE"), primary_key=True
    )
    objective: Mapped[int] = mapped_column(Integer, primary_key=True)


class Consultation(db.Model):
    __tablename__ = "consultations"
    __table_args__ = (
        CheckConstraint(f"kind IN ({_kinds})", name="kind"),
        CheckConstraint("state IN ('draft', 'open', 'closed', 'published')", name="state"),
        CheckConstraint("eligibility IN ('registered', 'invited')", name="eligibility"),
        CheckConstraint("closes_on >= opens_on", name="dates"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    title: Mapped[str] = mapped_column(String(200))
    kind: Mapped[str] = mapped_column(String(40), index=True)
    description_md: Mapped[str] = mapped_column(Text, default="")
    description_html: Mapped[str] = mapped_column(Text, default="")
    territory: Mapped[str] = mapped_column(String(200), default="")
    language: Mapped[str] = mapped_column(String(10), default="en")
    # The languages contributions may be written in: codes of reference.LANGUAGES,
    # comma-separated ("en,es,ar"); always includes the main language.
    accepted_languages: Mapped[str] = mapped_column(String(100), default="en", server_default="en")
    opens_on: Mapped[date]
    closes_on: Mapped[date]
    eligibility: Mapped[str] = mapped_column(String(20), default="registered")
    state: Mapped[str] = mapped_column(String(20), default="draft", index=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
    state_changed_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    # Contributions only appear after an organiser approves them.
    premoderation: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    # The link for contributing without an account: /c/<token>. None when closed.
    anonymous_token: Mapped[str | None] = mapped_column(String(64), unique=True)

    organisers: Mapped[list["User"]] = relationship(  # noqa: F821
        secondary=consultation_organisers, lazy="selectin", order_by="User.display_name"
    )
    invited_organisations: Mapped[list["Organisation"]] = relationship(  # noqa: F821
        secondary=consultation_invitations, order_by="Organisation.name"
    )
    focus: Mapped[list[ConsultationObjective]] = relationship(
        cascade="all, delete-orphan",
        lazy="selectin",
        order_by=ConsultationObjective.objective,
    )

    # -- lifecycle -------------------------------------------------------------
    def can_move_to(self, target: str) -> bool:
        return target in TRANSITIONS.get(self.state, ())

    def move_to(self, target: str) -> None:
        if not self.can_move_to(target):
            raise IllegalTransition(self.state, target)
        self.state = target
        self.state_changed_at = utcnow()

    @property
    def is_open(self) -> bool:
        return self.state == "open"

    @property
    def is_draft(self) -> bool:
        return self.state == "draft"

    @property
    def accepted_language_codes(self) -> list[str]:
        codes = [c for c in (self.accepted_languages or "").split(",") if c]
        return codes or [self.language or "en"]

    @property
    def focus_numbers(self) -> list[int]:
        return [f.objective for f in self.focus]

    def set_focus(self, numbers) -> None:
        wanted = sorted(set(int(n) for n in numbers))
        existing = {f.objective: f for f in self.focus}
        self.focus = [existing.get(n) or ConsultationObjective(objective=n) for n in wanted]

    def is_organiser(self, user) -> bool:
        return user is not None and any(o.id == user.id for o in self.organisers)

    def __repr__(self) -> str:
        return f"<Consultation {self.id} {self.state}>"
