""""E-mail me a link when it is ready": a person asks for it on the page of a job that is
not finished; when the job finishes (made or failed), each person who asked gets one
e-mail, in the language of their account, with an absolute link to the job's page
(``MESA_BASE_URL``), never the file itself.

Who asked is kept in the job's parameters (``notify``: user ids). Asking is one UPDATE
that only succeeds while the job is unfinished, and the worker takes the list away in one
UPDATE before sending (compare-and-set on the parameters): a person asking just as the
job finishes is told it is ready instead, and nobody gets the message twice.
"""
from __future__ import annotations

import contextlib
import json
import logging

from flask import current_app, has_request_context
from flask_babel import force_locale
from flask_babel import gettext as _
from sqlalchemy import select, update

from ..extensions import db
from .models import UNFINISHED, Job

log = logging.getLogger(__name__)

_TRIES = 5


def _swap(job_id: int, change) -> tuple[bool, dict | None]:
    """Apply ``change(params, status) -> new params | None`` (None: leave it) to a job's
    parameters atomically: read, then one compare-and-set UPDATE in a transaction of its
    own (on SQLite a deferred transaction that read before writing fails when another
    writer, such as the heartbeat, went in between). (changed, the params read; None: no
    such job)."""
    params = None
    for _attempt in range(_TRIES):
        with db.engine.connect() as conn:
            row = conn.execute(select(Job.params_json, Job.status).where(Job.id == job_id)).first()
            conn.rollback()
        if row is None:
            return False, None
        params = json.loads(row.params_json or "{}")
        new = change(params, row.status)
        if new is None:
            return False, params
        with db.engine.begin() as conn:
            taken = conn.execute(
                update(Job).where(Job.id == job_id, Job.params_json == row.params_json, Job.status == row.status)
                .values(params_json=json.dumps(new, ensure_ascii=False, sort_keys=True))
            ).rowcount
        if taken == 1:
            return True, params
    return False, params


def ask(job: Job, user, wanted: bool = True) -> bool:
    """Ask for (or cancel) the e-mail when ``job`` finishes (commits). False when it is
    finished already: nothing will be sent, the page shows the result. In the request's
    own transaction (on SQLite a POST holds the write lock from its start); the UPDATE
    only succeeds while the job is unfinished and its parameters are those read."""
    for _attempt in range(_TRIES):
        row = db.session.execute(select(Job.params_json, Job.status).where(Job.id == job.id)).first()
        if row is None or row.status not in UNFINISHED:
            db.session.commit()
            return False
        params = json.loads(row.params_json or "{}")
        ids = [i for i in params.get("notify", []) if i != user.id] + ([user.id] if wanted else [])
        new = {k: v for k, v in params.items() if k != "notify"}
        if ids:
            new["notify"] = ids
        taken = db.session.execute(
            update(Job).where(Job.id == job.id, Job.params_json == row.params_json, Job.status.in_(UNFINISHED))
            .values(params_json=json.dumps(new, ensure_ascii=False, sort_keys=True))
            .execution_options(synchronize_session=False)
        ).rowcount
        db.session.commit()
        if taken == 1:
            return True
    return False


def wants(job: Job, user) -> bool:
    return bool(user is not None and getattr(user, "is_authenticated", False) and user.id in job.params.get("notify", []))


def _base_url(job: Job) -> str:
    return (current_app.config.get("MESA_BASE_URL") or job.params.get("base_url") or "http://localhost/").rstrip("/") + "/"


def send_when_finished(job_id: int) -> int:
    """After a job finished: the e-mails its page's visitors asked for (once). The
    number queued."""
    from ..accounts.models import User
    from ..i18n import normalise
    from ..mail import absolute_url, send_mail
    from . import services

    def take(params, status):
        if status in UNFINISHED or not params.get("notify"):
            return None
        return {k: v for k, v in params.items() if k != "notify"}

    taken, params = _swap(job_id, take)
    if not taken:
        return 0
    job = db.session.get(Job, job_id)
    if job is None:
        return 0
    db.session.refresh(job)
    sent = 0
    stack = contextlib.ExitStack()
    with stack:
        if not has_request_context():
            stack.enter_context(current_app.test_request_context("/", base_url=_base_url(job)))
        from .routes import failure_reason, label_of

        for user_id in params.get("notify", []):
            user = db.session.get(User, user_id)
            if user is None or not user.email or not getattr(user, "is_active", True) or not services.may_see(job, user):
                continue
            locale = normalise(user.locale) or normalise(params.get("locale")) or "en"
            with force_locale(locale):
                url = absolute_url("jobs.show", job_id=job.id)
                label = label_of(job)
                if job.status == "done":
                    subject = _("Your file is ready: %(label)s", label=label)
                    body = _(
                        "The file you asked for on Mesa is ready:\n\n%(label)s\n\n"
                        "Download it from its page (sign in if you are asked to):\n%(url)s\n\n"
                        "It is kept for %(days)s days.",
                        label=label, url=url, days=services.setting("MESA_JOB_RETENTION_DAYS"),
                    )
                else:
                    subject = _("Your file could not be made: %(label)s", label=label)
                    body = _(
                        "The file you asked for on Mesa could not be made:\n\n%(label)s\n\n%(reason)s\n\n"
                        "You can try again from its page (sign in if you are asked to):\n%(url)s",
                        label=label, reason=failure_reason(job), url=url,
                    )
            send_mail(user.email, subject, body)
            sent += 1
        db.session.commit()
    log.info("job %s: %d e-mail(s) with its link queued", job_id, sent)
    return sent
