"""Contributions: submit, edit, withdraw, browse."""
from __future__ import annotations

from sqlalchemy import Select, or_, select
from sqlalchemy.orm import joinedload, selectinload

from .. import permissions
from ..consultations.models import VISIBLE_STATES, Consultation
from ..extensions import db
from ..markdown import MAX_MARKDOWN_LENGTH, render_markdown
from ..reference import CONTRIBUTION_KINDS, OBJECTIVE_COUNT, STAKEHOLDER_CATEGORIES, principles_by_key
from .models import Contribution, ContributionObjective, ContributionPrinciple

MAX_TITLE_LENGTH = 200


class ContributionError(ValueError):
    def __init__(self, message: str, field: str | None = None):
        super().__init__(message)
        self.field = field


def clean_fields(consultation: Consultation, kind, title, body, objectives, principles, answers):
    if kind not in CONTRIBUTION_KINDS:
        raise ContributionError("Choose challenge, proposal or good practice.", "kind")
    title = (title or "").strip()
    if not title:
        raise ContributionError("Give your contribution a title.", "title")
    if len(title) > MAX_TITLE_LENGTH:
        raise ContributionError(f"Keep the title under {MAX_TITLE_LENGTH} characters.", "title")
    body = body or ""
    if len(body) > MAX_MARKDOWN_LENGTH:
        raise ContributionError(f"Keep the text under {MAX_MARKDOWN_LENGTH} characters.", "body")
    numbers = sorted({int(n) for n in objectives or ()})
    if not numbers:
        raise ContributionError("Tag at least one GCM objective.", "objectives")
    if any(not 1 <= n <= OBJECTIVE_COUNT for n in numbers):
        raise ContributionError("Unknown GCM objective.", "objectives")
    keys = sorted(set(principles or ()))
    if any(k not in principles_by_key() for k in keys):
        raise ContributionError("Unknown guiding principle.", "principles")
    challenge_ids = sorted({int(i) for i in answers or ()})
    challenges: list[Contribution] = []
    if challenge_ids:
        if kind != "proposal":
            raise ContributionError("Only a proposal can answer challenges.", "answers")
        challenges = list(
            db.session.scalars(
                select(Contribution).where(
                    Contribution.id.in_(challenge_ids),
                    Contribution.consultation_id == consultation.id,
                    Contribution.kind == "challenge",
                    Contribution.status == "active",
                )
            )
        )
        if len(challenges) != len(challenge_ids):
            raise ContributionError("A proposal answers challenges of the same consultation only.", "answers")
    return title, body, numbers, keys, challenges


def _assign(contribution, kind, cleaned, name_organisation):
    title, body, numbers, keys, challenges = cleaned
    contribution.kind = kind
    contribution.title = title
    contribution.body_md = body
    contribution.body_html = render_markdown(body)
    existing = {o.objective: o for o in contribution.objectives}
    contribution.objectives = [existing.get(n) or ContributionObjective(objective=n) for n in numbers]
    existing_p = {p.principle: p for p in contribution.principles}
    contribution.principles = [existing_p.get(k) or ContributionPrinciple(principle=k) for k in keys]
    contribution.answers = challenges
    contribution.name_organisation = bool(name_organisation and contribution.organisation_name)


def submit_contribution(
    consultation: Consultation,
    author,
    *,
    kind: str,
    title: str,
    body: str = "",
    objectives=(),
    principles=(),
    answers=(),
    name_organisation: bool = False,
) -> Contribution:
    refusal = permissions.contribution_refusal(author, consultation)
    if refusal:
        raise ContributionError(refusal)
    cleaned = clean_fields(consultation, kind, title, body, objectives, principles, answers)
    organisation = author.organisation
    contribution = Contribution(
        consultation=consultation,
        author=author,
        organisation_id=organisation.id if organisation else None,
        organisation_name=organisation.name if organisation else None,
        stakeholder_category=author.stakeholder_category,
        governance_level=author.governance_level,
        status="active",
    )
    _assign(contribution, kind, cleaned, name_organisation)
    db.session.add(contribution)
    db.session.flush()
    return contribution


def update_contribution(contribution: Contribution, editor, **fields) -> Contribution:
    if not permissions.can_edit_contribution(editor, contribution):
        raise ContributionError("Only its author can change a contribution, and only while the consultation is open.")
    cleaned = clean_fields(
        contribution.consultation,
        fields.get("kind", contribution.kind),
        fields.get("title", contribution.title),
        fields.get("body", contribution.body_md),
        fields.get("objectives", contribution.objective_numbers),
        fields.get("principles", contribution.principle_keys),
        fields.get("answers", [c.id for c in contribution.answers]),
    )
    _assign(
        contribution,
        fields.get("kind", contribution.kind),
        cleaned,
        fields.get("name_organisation", contribution.name_organisation),
    )
    db.session.flush()
    return contribution


def withdraw_contribution(contribution: Contribution, editor) -> Contribution:
    if not permissions.can_edit_contribution(editor, contribution):
        raise ContributionError("Only its author can withdraw a contribution, and only while the consultation is open.")
    contribution.status = "withdrawn"
    db.session.flush()
    return contribution


def challenge_choices(consultation: Consultation, exclude_id: int | None = None) -> list[tuple[int, str]]:
    stmt = (
        select(Contribution.id, Contribution.title)
        .where(
            Contribution.consultation_id == consultation.id,
            Contribution.kind == "challenge",
            Contribution.status == "active",
        )
        .order_by(Contribution.title)
    )
    return [(row.id, row.title) for row in db.session.execute(stmt) if row.id != exclude_id]


def browse(
    *,
    consultation: Consultation | None = None,
    kind: str | None = None,
    objective: int | None = None,
    category: str | None = None,
    q: str | None = None,
) -> Select:
    """Active contributions, filtered; eager-loads what list pages show.

    Without ``consultation`` the list spans every consultation visible to the public.
    """
    stmt = select(Contribution).where(Contribution.status == "active")
    if consultation is not None:
        stmt = stmt.where(Contribution.consultation_id == consultation.id)
    else:
        stmt = stmt.join(Consultation, Consultation.id == Contribution.consultation_id).where(
            Consultation.state.in_(VISIBLE_STATES)
        )
        stmt = stmt.options(joinedload(Contribution.consultation))
    if kind in CONTRIBUTION_KINDS:
        stmt = stmt.where(Contribution.kind == kind)
    if category in STAKEHOLDER_CATEGORIES:
        stmt = stmt.where(Contribution.stakeholder_category == category)
    if objective:
        stmt = stmt.where(
            Contribution.id.in_(
                select(ContributionObjective.contribution_id).where(ContributionObjective.objective == objective)
            )
        )
    if q:
        stmt = stmt.where(
            or_(
                Contribution.title.icontains(q, autoescape=True),
                Contribution.body_md.icontains(q, autoescape=True),
            )
        )
    return stmt.options(
        selectinload(Contribution.objectives),
    ).order_by(Contribution.created_at.desc(), Contribution.id.desc())
