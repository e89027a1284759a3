"""Recording and reading the audit log."""
from __future__ import annotations

from datetime import date, datetime, time, timedelta

from sqlalchemy import select

from ..extensions import db
from .models import AuditEvent
from flask_babel import gettext as _

# Known actions and how the log page names them. Add yours here when you call record().
ACTION_LABELS = {
    "user.role_changed": "Role changed",
    "user.organisation_changed": "Organisation changed",
    "consultation.state_changed": "Consultation state changed",
    "account.data_exported": "Personal data downloaded",
    "account.deleted": "Account deleted",
    "account.password_changed": "Password changed",
    "account.password_reset": "Password reset by e-mail",
    "contribution.hidden": "Contribution hidden",
    "contribution.restored": "Contribution restored",
    "contribution.approved": "Contribution approved",
    "contribution.flags_dismissed": "Reports dismissed",
    "consultation.premoderation_changed": "Pre-moderation switched",
    "consultation.anonymous_link_opened": "Anonymous link opened or rotated",
    "consultation.anonymous_link_revoked": "Anonymous link revoked",
}

# Keys that would put personal data into the log: record() refuses them.
FORBIDDEN_DETAIL_KEYS = frozenset(
    {"email", "e_mail", "name", "display_name", "password", "ip", "ip_address", "address",
     "user_agent", "body", "text", "title", "token"}
)


class AuditError(ValueError):
    pass


def _target(target) -> tuple[str | None, int | None]:
    if target is None:
        return None, None
    if isinstance(target, tuple):
        kind, ident = target
        return str(kind), (int(ident) if ident is not None else None)
    kind = getattr(target, "__tablename__", None) or type(target).__name__.lower()
    # "users" -> "user", "summaries" -> "summary": one word per kind of thing.
    if kind.endswith("ies"):
        kind = kind[:-3] + "y"
    elif kind.endswith("s"):
        kind = kind[:-1]
    return kind, target.id


def record(actor, action: str, target=None, **details) -> AuditEvent:
    """Add an event to the audit log and flush it; the caller's request commits it.

    Call it in the same transaction as the change it describes, just before the view
    (or CLI command) commits, so that the log and the data cannot disagree::

        from ..audit.services import record
        contribution.hide(reason)
        record(current_user, "contribution.hidden", target=contribution, reason_code="spam")
        db.session.commit()

    - ``actor``: the ``User`` who acted (``current_user`` is fine), a user id, or None
      for the system (CLI, scheduled task).
    - ``action``: ``"<thing>.<past participle>"``, e.g. ``"contribution.hidden"``,
      ``"contribution.restored"``, ``"consultation.published"``. Add a label for it to
      ``ACTION_LABELS`` so the log page names it and offers it as a filter.
    - ``target``: the model instance acted on (its table name, singular, and id are
      stored), or a ``("kind", id)`` tuple, or None.
    - ``details``: JSON-serialisable values that explain the change: ids, states, roles,
      counts, codes. **Never personal data**: no names, e-mails, free text typed by
      people, IP addresses or user agents. Keys such as ``email``, ``name``, ``body``,
      ``title`` or ``ip`` raise ``AuditError``. A moderation reason that was typed by an
      organiser and is shown to the author belongs with the contribution, not here.
    """
    forbidden = FORBIDDEN_DETAIL_KEYS.intersection(k.lower() for k in details)
    if forbidden:
        raise AuditError(f"Personal data does not go into the audit log: {sorted(forbidden)}")
    if not action or len(action) > 60:
        raise AuditError(_("An audit action is a short name such as 'contribution.hidden'."))
    actor_id = getattr(actor, "id", actor)
    target_type, target_id = _target(target)
    event = AuditEvent(
        actor_id=int(actor_id) if actor_id is not None else None,
        action=action,
        target_type=target_type,
        target_id=target_id,
        details=details,
    )
    db.session.add(event)
    db.session.flush()
    return event


def action_label(action: str) -> str:
    return ACTION_LABELS.get(action, action)


def known_actions() -> list[str]:
    """Actions with a label and any others already in the log (one query)."""
    present = db.session.scalars(select(AuditEvent.action).distinct()).all()
    return sorted(set(ACTION_LABELS) | set(present))


def search_events(
    action: str | None = None,
    actor_id: int | None = None,
    date_from: date | None = None,
    date_to: date | None = None,
    target_type: str | None = None,
    target_id: int | None = None,
):
    """A select of events, newest first, narrowed by the given filters (dates inclusive)."""
    stmt = select(AuditEvent).order_by(AuditEvent.created_at.desc(), AuditEvent.id.desc())
    if action:
        stmt = stmt.where(AuditEvent.action == action)
    if actor_id is not None:
        stmt = stmt.where(AuditEvent.actor_id == actor_id)
    if date_from:
        stmt = stmt.where(AuditEvent.created_at >= datetime.combine(date_from, time.min))
    if date_to:
        stmt = stmt.where(AuditEvent.created_at < datetime.combine(date_to + timedelta(days=1), time.min))
    if target_type:
        stmt = stmt.where(AuditEvent.target_type == target_type)
    if target_id is not None:
        stmt = stmt.where(AuditEvent.target_id == target_id)
    return stmt


def events_about_user(user_id: int) -> list[AuditEvent]:
    """Events a person did, or that were done to their account (for their data download)."""
    stmt = search_events().where(
        (AuditEvent.actor_id == user_id)
        | ((AuditEvent.target_type == "user") & (AuditEvent.target_id == user_id))
    )
    return list(db.session.scalars(stmt))
