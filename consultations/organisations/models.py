from __future__ import annotations

from datetime import datetime

from sqlalchemy import CheckConstraint, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import db
from ..reference import GOVERNANCE_LEVELS, STAKEHOLDER_CATEGORIES, voice_label
from ..timeutil import utcnow

_categories = ", ".join(f"'{c}'" for c in STAKEHOLDER_CATEGORIES)
_levels = ", ".join(f"'{lvl}'" for lvl in GOVERNANCE_LEVELS)


class Organisation(db.Model):
    __tablename__ = "organisations"
    __table_args__ = (
        CheckConstraint(f"category IN ({_categories})", name="category"),
        CheckConstraint(
            f"(category = 'public_administration' AND governance_level IN ({_levels}))"
            " OR (category <> 'public_administration' AND governance_level IS NULL)",
            name="governance_level",
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    category: Mapped[str] = mapped_column(String(40), index=True)
    governance_level: Mapped[str | None] = mapped_column(String(20), index=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    members: Mapped[list["User"]] = relationship(back_populates="organisation")  # noqa: F821

    @property
    def voice(self) -> str:
        return voice_label(self.category, self.governance_level)

    def __repr__(self) -> str:
        return f"<Organisation {self.id} {self.name!r}>"
