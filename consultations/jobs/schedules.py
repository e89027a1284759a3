"""Consultations that open and close on their dates (a periodic task, every minute).

Dates are days in UTC: a consultation opens when its opening day has begun and closes
when its closing day has ended. Only moves the organiser would expect are made:

- a draft opens on its opening day if it was created (or last changed state) before that
  day began: a draft made today with today's date waits for the organiser to open it;
- an open consultation closes after its closing day if it was opened before that day
  ended: one the organiser reopened afterwards stays open until they close it.

The moves go through the consultations' own lifecycle (``change_state``) and are
recorded in the audit log with the system as the actor.

Roundtable reminders (and later digests) belong here too; there is no reminder e-mail
yet, so nothing is sent for them.
"""
from __future__ import annotations

import logging
from datetime import datetime, time, timedelta

from sqlalchemy import select

from ..audit.services import record as record_audit
from ..consultations.models import Consultation, IllegalTransition
from ..consultations.services import change_state
from ..extensions import db
from ..timeutil import today as utc_today

log = logging.getLogger(__name__)


def _start(day) -> datetime:
    return datetime.combine(day, time.min)


def due_moves(day=None) -> list[tuple[Consultation, str]]:
    day = day or utc_today()
    moves = []
    for consultation in db.session.scalars(
        select(Consultation).where(Consultation.state == "draft", Consultation.opens_on <= day,
                                   Consultation.closes_on >= day).order_by(Consultation.id)
    ):
        if consultation.state_changed_at < _start(consultation.opens_on):
            moves.append((consultation, "open"))
    for consultation in db.session.scalars(
        select(Consultation).where(Consultation.state == "open", Consultation.closes_on < day).order_by(Consultation.id)
    ):
        if consultation.state_changed_at < _start(consultation.closes_on + timedelta(days=1)):
            moves.append((consultation, "closed"))
    return moves


def apply_schedules(day=None) -> list[tuple[int, str]]:
    """Open and close the consultations whose dates say so; commits. Returns (id, state)."""
    done = []
    for consultation, target in due_moves(day):
        try:
            change_state(consultation, target)
        except IllegalTransition:
            db.session.rollback()
            continue
        record_audit(None, "consultation.state_changed", target=consultation, state=target, by="schedule")
        db.session.commit()
        log.info("consultation %s %s on its date", consultation.id, "opened" if target == "open" else "closed")
        done.append((consultation.id, target))
    return done
