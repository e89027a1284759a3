"""Who may do what: small named predicates used by views and templates alike.

Views turn a refusal into 404 where the object's existence is secret (drafts,
withdrawn contributions) and into 403 where it is not.
"""
from __future__ import annotations

from flask_babel import gettext
from sqlalchemy import exists, select

from .consultations.models import VISIBLE_STATES, Consultation, consultation_invitations
from .extensions import db


def _authenticated(user) -> bool:
    return user is not None and getattr(user, "is_authenticated", False)


def is_admin(user) -> bool:
    return _authenticated(user) and user.role == "admin"


def can_create_consultation(user) -> bool:
    return _authenticated(user) and user.role in ("admin", "organiser")


def can_manage_users(user) -> bool:
    return is_admin(user)


def can_review(user) -> bool:
    """Government staff read across consultations (and later download summaries)."""
    return _authenticated(user) and user.role in ("admin", "reviewer")


def can_manage_consultation(user, consultation: Consultation) -> bool:
    return _authenticated(user) and (is_admin(user) or consultation.is_organiser(user))


def can_view_consultation(user, consultation: Consultation) -> bool:
    if consultation.state in VISIBLE_STATES:
        return True
    return can_manage_consultation(user, consultation)


def is_invited(user, consultation: Consultation) -> bool:
    if not _authenticated(user) or user.organisation_id is None:
        return False
    return bool(
        db.session.scalar(
            select(
                exists().where(
                    consultation_invitations.c.consultation_id == consultation.id,
                    consultation_invitations.c.organisation_id == user.organisation_id,
                )
            )
        )
    )


def contribution_refusal(user, consultation: Consultation) -> str | None:
    """Why ``user`` may not contribute to ``consultation`` now, or None if they may."""
    if not consultation.is_open:
        return gettext("This consultation is not open for contributions.")
    if not _authenticated(user):
        return gettext("Log in to contribute.")
    if consultation.eligibility == "invited" and not (
        can_manage_consultation(user, consultation) or is_invited(user, consultation)
    ):
        return gettext("Only invited organisations may contribute to this consultation.")
    return None


def can_contribute(user, consultation: Consultation) -> bool:
    return contribution_refusal(user, consultation) is None


def is_author(user, contribution) -> bool:
    return _authenticated(user) and contribution.author_id is not None and contribution.author_id == user.id


def can_edit_contribution(user, contribution) -> bool:
    """Authors edit or withdraw their own contribution while the consultation is open
    (also while it waits for approval; not once an organiser hid it)."""
    return (
        is_author(user, contribution)
        and contribution.status in ("active", "pending")
        and contribution.consultation.is_open
    )


def can_submit_on_behalf(user) -> bool:
    """Members of migrant and diaspora associations relay input from people without an account."""
    return (
        _authenticated(user)
        and user.organisation is not None
        and user.organisation.category in ("migrant_association", "diaspora_organisation")
    )


def can_moderate(user, consultation: Consultation) -> bool:
    return can_manage_consultation(user, consultation)


def can_view_contribution(user, contribution) -> bool:
    consultation = contribution.consultation
    if not can_view_consultation(user, consultation):
        return False
    if contribution.is_active:
        return True
    return is_author(user, contribution) or can_manage_consultation(user, consultation)


def can_capture(user, roundtable) -> bool:
    """Facilitators of a roundtable and organisers of its consultation enter what was said."""
    return _authenticated(user) and (
        can_manage_consultation(user, roundtable.consultation) or roundtable.is_facilitator(user)
    )


def can_cancel_registration(user, registration) -> bool:
    return _authenticated(user) and (
        registration.registered_by_id == user.id
        or can_manage_consultation(user, registration.roundtable.consultation)
    )


def template_predicates() -> dict:
    return {
        "can_create_consultation": can_create_consultation,
        "can_manage_consultation": can_manage_consultation,
        "can_contribute": can_contribute,
        "can_edit_contribution": can_edit_contribution,
        "can_manage_users": can_manage_users,
        "can_review": can_review,
        "can_capture": can_capture,
        "can_submit_on_behalf": can_submit_on_behalf,
        "can_moderate": can_moderate,
        "can_cancel_registration": can_cancel_registration,
        "is_admin": is_admin,
    }
