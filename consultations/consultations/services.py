"""Consultations: creation, editing, organisers, lifecycle, listings."""
from __future__ import annotations

from datetime import date

from sqlalchemy import or_, select

from ..accounts.models import User
from ..extensions import db
from ..markdown import render_markdown
from ..organisations.models import Organisation
from ..reference import CONSULTATION_KINDS, LANGUAGES, OBJECTIVE_COUNT
from .models import ELIGIBILITY, VISIBLE_STATES, Consultation, consultation_organisers
from flask_babel import gettext as _


class ConsultationError(ValueError):
    def __init__(self, message: str, field: str | None = None):
        super().__init__(message)
        self.field = field


def _apply(
    consultation: Consultation,
    *,
    title: str,
    kind: str,
    opens_on: date,
    closes_on: date,
    description: str = "",
    territory: str = "",
    language: str = "en",
    accepted_languages=None,
    focus=(),
    eligibility: str = "registered",
    invited: list[Organisation] | None = None,
) -> Consultation:
    title = (title or "").strip()
    if not title:
        raise ConsultationError(_("Give the consultation a title."), "title")
    if len(title) > 200:
        raise ConsultationError(_("Keep the title under 200 characters."), "title")
    if kind not in CONSULTATION_KINDS:
        raise ConsultationError(_("Choose a kind of consultation."), "kind")
    if language not in LANGUAGES:
        raise ConsultationError(_("Choose a language."), "language")
    accepted = set(accepted_languages or ()) | {language}
    if any(code not in LANGUAGES for code in accepted):
        raise ConsultationError(_("Choose languages from the list."), "accepted_languages")
    if eligibility not in ELIGIBILITY:
        raise ConsultationError(_("Choose who may contribute."), "eligibility")
    if closes_on < opens_on:
        raise ConsultationError(_("The closing date cannot be before the opening date."), "closes_on")
    numbers = {int(n) for n in focus}
    if any(not 1 <= n <= OBJECTIVE_COUNT for n in numbers):
        raise ConsultationError(_("Unknown GCM objective."), "focus")
    consultation.title = title
    consultation.kind = kind
    consultation.description_md = description or ""
    consultation.description_html = render_markdown(description or "")
    consultation.territory = (territory or "").strip()
    consultation.language = language
    consultation.accepted_languages = ",".join(code for code in LANGUAGES if code in accepted)
    consultation.opens_on = opens_on
    consultation.closes_on = closes_on
    consultation.eligibility = eligibility
    consultation.set_focus(numbers)
    consultation.invited_organisations = list(invited or [])
    return consultation


def create_consultation(organiser: User, **fields) -> Consultation:
    consultation = Consultation(state="draft")
    consultation.organisers = [organiser]
    _apply(consultation, **fields)
    db.session.add(consultation)
    db.session.flush()
    return consultation


def update_consultation(consultation: Consultation, **fields) -> Consultation:
    _apply(consultation, **fields)
    db.session.flush()
    return consultation


def change_state(consultation: Consultation, target: str) -> Consultation:
    """Move along draft -> open -> closed -> published (raises IllegalTransition)."""
    consultation.move_to(target)
    db.session.flush()
    return consultation


def add_organiser(consultation: Consultation, email: str) -> User:
    from ..accounts.services import find_by_email

    user = find_by_email(email)
    if user is None or user.role not in ("organiser", "admin"):
        raise ConsultationError(
            _("No organiser has this e-mail. An administrator can give the organiser role first."), "email"
        )
    if consultation.is_organiser(user):
        raise ConsultationError(_("This person already organises this consultation."), "email")
    consultation.organisers.append(user)
    db.session.flush()
    return user


def remove_organiser(consultation: Consultation, user: User) -> None:
    if len(consultation.organisers) <= 1:
        raise ConsultationError(_("A consultation keeps at least one organiser."))
    consultation.organisers = [o for o in consultation.organisers if o.id != user.id]
    db.session.flush()


def invited_organisations(ids) -> list[Organisation]:
    ids = list(ids or [])
    if not ids:
        return []
    return list(db.session.scalars(select(Organisation).where(Organisation.id.in_(ids))))


def public_consultations(state: str | None = None, kind: str | None = None, q: str | None = None):
    """A select of consultations anyone may see, newest activity first."""
    stmt = select(Consultation).where(Consultation.state.in_(VISIBLE_STATES))
    if state:
        stmt = stmt.where(Consultation.state == state)
    if kind:
        stmt = stmt.where(Consultation.kind == kind)
    if q:
        stmt = stmt.where(
            or_(
                Consultation.title.icontains(q, autoescape=True),
                Consultation.territory.icontains(q, autoescape=True),
            )
        )
    return stmt.order_by(Consultation.state_changed_at.desc(), Consultation.id.desc())


def open_consultations(limit: int = 10) -> list[Consultation]:
    stmt = (
        select(Consultation)
        .where(Consultation.state == "open")
        .order_by(Consultation.closes_on, Consultation.id)
        .limit(limit)
    )
    return list(db.session.scalars(stmt))


def recent_consultations(limit: int = 10) -> list[Consultation]:
    stmt = (
        select(Consultation)
        .where(Consultation.state.in_(("closed", "published")))
        .order_by(Consultation.state_changed_at.desc(), Consultation.id.desc())
        .limit(limit)
    )
    return list(db.session.scalars(stmt))


def organised_by(user: User, limit: int | None = None) -> list[Consultation]:
    """The consultations this person organises, drafts included."""
    stmt = (
        select(Consultation)
        .join(consultation_organisers, consultation_organisers.c.consultation_id == Consultation.id)
        .where(consultation_organisers.c.user_id == user.id)
        .order_by(Consultation.state_changed_at.desc(), Consultation.id.desc())
    )
    if limit:
        stmt = stmt.limit(limit)
    return list(db.session.scalars(stmt))
