"""GCM objectives across consultations.

At national scale (a million contributions, issue 14) nothing here counts or sorts every
matching contribution: the counts come from ``objective_counts``, kept by the database
(see models.py), and the lists are pages of a keyset, the newest first: a page is the
next ``per_page`` contributions after (or before) one it names, read in order from the
index on (objective, contribution id), so a deep page costs what the first does and
contributions added meanwhile neither repeat nor skip a row."""
from __future__ import annotations

import logging
from dataclasses import dataclass

from sqlalchemy import and_, func, select
from sqlalchemy.orm import contains_eager, selectinload

from ..consultations.models import VISIBLE_STATES, Consultation
from ..contributions.models import Contribution, ContributionObjective
from ..contributions.services import filter_contributions
from ..extensions import db
from ..reference import CONTRIBUTION_KINDS, LANGUAGES, STAKEHOLDER_CATEGORIES
from .models import ObjectiveCount

log = logging.getLogger(__name__)

PER_PAGE = 20
# With a filter the counts do not cover (category, language, text), at most this many are
# counted: above it the page says "more than".
COUNT_LIMIT = 1000


def contribution_counts() -> dict[int, int]:
    """Active contributions per objective, over every publicly visible consultation (one
    query over the pre-aggregated counts: at most consultations x 23 x 3 rows)."""
    stmt = (
        select(ObjectiveCount.objective, func.sum(ObjectiveCount.total))
        .join(Consultation, Consultation.id == ObjectiveCount.consultation_id)
        .where(Consultation.state.in_(VISIBLE_STATES))
        .group_by(ObjectiveCount.objective)
    )
    return {number: int(count) for number, count in db.session.execute(stmt) if count}


def objective_total(number: int, kind: str | None = None) -> int:
    """Active contributions tagged with this objective (of this kind), in visible consultations."""
    stmt = (
        select(func.coalesce(func.sum(ObjectiveCount.total), 0))
        .join(Consultation, Consultation.id == ObjectiveCount.consultation_id)
        .where(Consultation.state.in_(VISIBLE_STATES), ObjectiveCount.objective == number)
    )
    if kind in CONTRIBUTION_KINDS:
        stmt = stmt.where(ObjectiveCount.kind == kind)
    return int(db.session.scalar(stmt))


@dataclass
class KeysetPage:
    """One page of a list read in keyset order. ``newer`` / ``older``: the cursor of the
    previous / next page (``before=`` / ``after=``), None at either end. ``total``: how
    many match; ``more`` when only ``COUNT_LIMIT`` were counted and there are more."""

    items: list
    newer: int | None
    older: int | None
    total: int
    more: bool = False


def _matching(number: int, *, kind=None, category=None, language=None, q=None):
    co = ContributionObjective
    stmt = (
        select(Contribution)
        .join(co, and_(co.contribution_id == Contribution.id, co.objective == number))
        .join(Consultation, Consultation.id == Contribution.consultation_id)
        .where(Contribution.status == "active", Consultation.state.in_(VISIBLE_STATES))
    )
    stmt = filter_contributions(stmt, kind=kind, category=category, language=language, q=q)
    return stmt


def objective_page(
    number: int, *, after: int | None = None, before: int | None = None, per_page: int = PER_PAGE,
    kind=None, category=None, language=None, q=None,
) -> KeysetPage:
    """The active contributions tagged with objective ``number`` in visible consultations,
    newest first (by contribution number: the order they were received in), ``per_page``
    of them: the first page, those just older than ``after``, or just newer than
    ``before``. Two queries and the objectives' lookup, whatever the page and the size of
    the database (the filters on category, language and text are checked on each row read)."""
    filters = dict(kind=kind, category=category, language=language, q=q)
    key = ContributionObjective.contribution_id
    if before is not None:
        # The page before a cursor is the one that starts just after the ``per_page``
        # contributions newer than it (or the first page when there are no more).
        probe = _matching(number, **filters).with_only_columns(key).where(key > before)
        newer_ids = list(db.session.scalars(probe.order_by(key.asc()).limit(per_page + 1)))
        after = newer_ids[per_page - 1] + 1 if len(newer_ids) > per_page else None
    stmt = _matching(number, **filters).options(contains_eager(Contribution.consultation), selectinload(Contribution.objectives))
    if after is not None:
        stmt = stmt.where(key < after)
    rows = list(db.session.scalars(stmt.order_by(key.desc()).limit(per_page + 1)))
    beyond = len(rows) > per_page
    rows = rows[:per_page]
    older = rows[-1].id if beyond else None
    if after is None:
        newer = None
    else:
        # Past the oldest (the rows after the cursor were withdrawn meanwhile): the way back
        # is the page that ends with the cursor.
        newer = rows[0].id if rows else after - 1
    if not (category in STAKEHOLDER_CATEGORIES or language in LANGUAGES or q):
        total, more = objective_total(number, kind), False
    else:
        counted = _matching(number, **filters).with_only_columns(Contribution.id).limit(COUNT_LIMIT + 1).subquery()
        total = db.session.scalar(select(func.count()).select_from(counted))
        more = total > COUNT_LIMIT
        total = min(total, COUNT_LIMIT)
    return KeysetPage(rows, newer, older, total, more)
