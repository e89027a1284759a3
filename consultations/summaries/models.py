"""Summaries: a consultation's compiled summary, its narrative along the review
questionnaire, and the versions frozen when it is published.

A national summary is the same row with no consultation: a title, the consultations it
compiles (``summary_consultations``) and the reviewers' narrative, pins and versions, kept
by the same tables and the same services as a consultation's summary."""
from __future__ import annotations

import json
from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import db
from ..timeutil import utcnow

DEFAULT_PRIVACY_THRESHOLD = 3
DEFAULT_MIGRANT_MIN_PERCENT = 25
DEFAULT_DOMINANCE_MAX_PERCENT = 50


summary_consultations = db.Table(
    "summary_consultations",
    db.Column("summary_id", ForeignKey("summaries.id", ondelete="CASCADE"), primary_key=True),
    db.Column("consultation_id", ForeignKey("consultations.id", ondelete="CASCADE"), primary_key=True, index=True),
)


class Summary(db.Model):
    """The summary of one consultation, or a national summary (``consultation_id`` None,
    a ``title`` and the ``consultations`` it compiles): its settings and a revision counter.

    ``revision`` grows with every change; a change (or a publication) names the revision
    it was made from and is refused when another one came first (optimistic locking).
    """

    __tablename__ = "summaries"
    __table_args__ = (
        CheckConstraint("privacy_threshold BETWEEN 1 AND 50", name="privacy_threshold"),
        CheckConstraint("migrant_min_percent BETWEEN 0 AND 100", name="migrant_min_percent"),
        CheckConstraint("dominance_max_percent BETWEEN 1 AND 100", name="dominance_max_percent"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    consultation_id: Mapped[int | None] = mapped_column(
        ForeignKey("consultations.id", ondelete="CASCADE"), unique=True
    )
    # A national summary's title, and who created it (kept for the record, never shown).
    title: Mapped[str] = mapped_column(String(200), default="", server_default="")
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"), index=True)
    privacy_threshold: Mapped[int] = mapped_column(Integer, default=DEFAULT_PRIVACY_THRESHOLD)
    migrant_min_percent: Mapped[int] = mapped_column(Integer, default=DEFAULT_MIGRANT_MIN_PERCENT)
    dominance_max_percent: Mapped[int] = mapped_column(Integer, default=DEFAULT_DOMINANCE_MAX_PERCENT)
    revision: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)

    consultation: Mapped["Consultation"] = relationship()  # noqa: F821
    sections: Mapped[list["SummarySection"]] = relationship(
        cascade="all, delete-orphan", lazy="selectin", order_by="SummarySection.key"
    )
    consultations: Mapped[list["Consultation"]] = relationship(  # noqa: F821
        secondary=summary_consultations
    )

    @property
    def is_national(self) -> bool:
        return self.consultation_id is None

    def section(self, key: str) -> "SummarySection | None":
        return next((s for s in self.sections if s.key == key), None)


class SummarySection(db.Model):
    """The organiser's text for one questionnaire section, and its objective mapping
    when it differs from the default (``objectives_override`` None = default)."""

    __tablename__ = "summary_sections"

    summary_id: Mapped[int] = mapped_column(ForeignKey("summaries.id", ondelete="CASCADE"), primary_key=True)
    key: Mapped[str] = mapped_column(String(4), primary_key=True)
    text_md: Mapped[str] = mapped_column(Text, default="")
    text_html: Mapped[str] = mapped_column(Text, default="")
    objectives_override: Mapped[str | None] = mapped_column(String(100))

    @property
    def override_numbers(self) -> list[int] | None:
        if self.objectives_override is None:
            return None
        return [int(n) for n in self.objectives_override.split(",") if n]


class SectionPin(db.Model):
    """A contribution the organiser pinned to (or dropped from) a section; pinned ones
    are cited in the order of ``position``."""

    __tablename__ = "summary_section_pins"
    __table_args__ = (CheckConstraint("state IN ('pinned', 'dropped')", name="state"),)

    summary_id: Mapped[int] = mapped_column(ForeignKey("summaries.id", ondelete="CASCADE"), primary_key=True)
    key: Mapped[str] = mapped_column(String(4), primary_key=True)
    contribution_id: Mapped[int] = mapped_column(
        ForeignKey("contributions.id", ondelete="CASCADE"), primary_key=True, index=True
    )
    state: Mapped[str] = mapped_column(String(10))
    position: Mapped[int] = mapped_column(Integer, default=0, server_default="0")


class SummaryVersion(db.Model):
    """A published, frozen version: the whole compiled document as JSON."""

    __tablename__ = "summary_versions"
    __table_args__ = (UniqueConstraint("summary_id", "number", name="uq_summary_versions_number"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    summary_id: Mapped[int] = mapped_column(ForeignKey("summaries.id", ondelete="CASCADE"), index=True)
    number: Mapped[int] = mapped_column(Integer)
    published_at: Mapped[datetime] = mapped_column(default=utcnow)
    # Who published it: kept for the record, never shown in any output.
    published_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    note: Mapped[str] = mapped_column(String(300), default="")
    document_json: Mapped[str] = mapped_column(Text)

    summary: Mapped[Summary] = relationship()

    @property
    def document(self) -> dict:
        return json.loads(self.document_json)
