"""Pre-aggregated counts for the objective pages (issue 14)."""
from __future__ import annotations

from sqlalchemy import Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from ..extensions import db


class ObjectiveCount(db.Model):
    """How many active contributions of a consultation, of one kind, are tagged with a GCM
    objective. Kept by the database itself: triggers on ``contributions`` and
    ``contribution_objectives`` (migration 20261201_e4b8c1d2a3f5) count every insert,
    delete and change of status, kind or consultation, whoever writes (the app, a bulk
    load, a restore). The objective pages add up at most consultations x 23 x 3 rows
    instead of counting every contribution."""

    __tablename__ = "objective_counts"

    # No foreign key: a consultation's deletion cascades to its contributions, whose
    # triggers update these rows while the consultation is already gone; a trigger on
    # consultations removes its rows instead.
    consultation_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    objective: Mapped[int] = mapped_column(Integer, primary_key=True)
    kind: Mapped[str] = mapped_column(String(20), primary_key=True)
    total: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
