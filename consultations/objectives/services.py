"""GCM objectives across consultations."""
from __future__ import annotations

from sqlalchemy import func, select

from ..consultations.models import VISIBLE_STATES, Consultation
from ..contributions.models import Contribution, ContributionObjective
from ..extensions import db


def contribution_counts() -> dict[int, int]:
    """Active contributions per objective, over every publicly visible consultation (one query)."""
    stmt = (
        select(ContributionObjective.objective, func.count())
        .join(Contribution, Contribution.id == ContributionObjective.contribution_id)
        .join(Consultation, Consultation.id == Contribution.consultation_id)
        .where(Contribution.status == "active", Consultation.state.in_(VISIBLE_STATES))
        .group_by(ContributionObjective.objective)
    )
    return {number: count for number, count in db.session.execute(stmt)}
