"""Moderation: flags from anyone, a queue per consultation, hide/restore with a reason,
pre-moderation (approve before publication). Every organiser action is audited."""
from __future__ import annotations

from sqlalchemy import and_, or_, select
from sqlalchemy.orm import selectinload

from ..audit.services import record
from ..consultations.models import Consultation
from ..contributions.models import Contribution, Flag
from ..extensions import db
from flask_babel import gettext as _


class ModerationError(ValueError):
    def __init__(self, message: str, field: str | None = None):
        super().__init__(message)
        self.field = field


def _reason(reason: str, field: str = "reason") -> str:
    reason = (reason or "").strip()
    if not reason:
        raise ModerationError(_("Give a reason."), field)
    if len(reason) > 1000:
        raise ModerationError(_("Keep the reason under 1000 characters."), field)
    return reason


def flag(contribution: Contribution, reason: str, reporter=None) -> Flag:
    """Anyone may report a contribution. No screen shows who did; a logged-in
    ``reporter`` is recorded only so that the text goes when their account does."""
    if contribution.status != "active":
        raise ModerationError(_("Only published contributions can be reported."))
    reporter_id = reporter.id if getattr(reporter, "is_authenticated", False) else None
    item = Flag(contribution_id=contribution.id, reason=_reason(reason), reporter_id=reporter_id)
    db.session.add(item)
    db.session.flush()
    return item


def _resolve_flags(contribution: Contribution) -> int:
    flags = db.session.scalars(
        select(Flag).where(Flag.contribution_id == contribution.id, Flag.resolved.is_(False))
    ).all()
    for item in flags:
        item.resolved = True
    return len(flags)


def hide(contribution: Contribution, actor, reason: str) -> Contribution:
    if contribution.status not in ("active", "pending"):
        raise ModerationError(_("Only a published or pending contribution can be hidden."))
    contribution.moderation_note = _reason(reason)
    contribution.status = "hidden"
    resolved = _resolve_flags(contribution)
    record(actor, "contribution.hidden", target=contribution, flags_resolved=resolved)
    db.session.flush()
    return contribution


def restore(contribution: Contribution, actor) -> Contribution:
    if contribution.status != "hidden":
        raise ModerationError(_("Only a hidden contribution can be restored."))
    contribution.status = "active"
    contribution.moderation_note = ""
    record(actor, "contribution.restored", target=contribution)
    db.session.flush()
    return contribution


def approve(contribution: Contribution, actor) -> Contribution:
    if contribution.status != "pending":
        raise ModerationError(_("Only a contribution waiting for approval can be approved."))
    contribution.status = "active"
    record(actor, "contribution.approved", target=contribution)
    db.session.flush()
    return contribution


def dismiss_flags(contribution: Contribution, actor) -> int:
    count = _resolve_flags(contribution)
    if not count:
        raise ModerationError(_("There is no open report on this contribution."))
    record(actor, "contribution.flags_dismissed", target=contribution, count=count)
    db.session.flush()
    return count


def set_premoderation(consultation: Consultation, enabled: bool, actor) -> Consultation:
    consultation.premoderation = bool(enabled)
    record(actor, "consultation.premoderation_changed", target=consultation, enabled=bool(enabled))
    db.session.flush()
    return consultation


def queue(consultation: Consultation):
    """Contributions needing a decision: pending approval, or with open reports;
    also hidden ones (to restore). Their open reports come from :func:`open_reasons`.

    Driven by the consultation's own rows (its pending and hidden ones by the
    (consultation, status) index) and the open reports (a few, by the ``resolved``
    index): nothing here reads every report or every contribution of the site."""
    reported = select(Flag.contribution_id).where(Flag.resolved.is_(False))
    return (
        select(Contribution)
        .where(
            Contribution.consultation_id == consultation.id,
            or_(
                Contribution.status.in_(("pending", "hidden")),
                and_(Contribution.status == "active", Contribution.id.in_(reported)),
            ),
        )
        .options(selectinload(Contribution.objectives))
        .order_by(Contribution.status.desc(), Contribution.id)
    )


def open_reasons(contribution_ids) -> dict[int, list[str]]:
    ids = list(contribution_ids)
    if not ids:
        return {}
    rows = db.session.execute(
        select(Flag.contribution_id, Flag.reason)
        .where(Flag.contribution_id.in_(ids), Flag.resolved.is_(False))
        .order_by(Flag.id)
    )
    out: dict[int, list[str]] = {}
    for contribution_id, reason in rows:
        out.setdefault(contribution_id, []).append(reason)
    return out
