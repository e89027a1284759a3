"""The mail job: a rendered message (recipient, subject, body) queued and sent once.

Sent with the configured backend by a worker; a failure to reach the mail server is
tried again later (``MESA_MAIL_RETRY_SECONDS``, doubling, up to ``MESA_MAIL_ATTEMPTS``
attempts). A worker that dies while talking to the server may have sent it: the message
is then not sent again (failed, with that reason), so nobody gets it twice. Once sent,
the job keeps no recipient and no text.
"""
from __future__ import annotations

import smtplib

from flask import current_app
from sqlalchemy import update

from ..extensions import db
from .models import Job
from .services import JobError, Kind, RetryLater, register


def run(job, progress) -> None:
    from ..mail import Mail, deliver

    params = job.params
    if params.get("sent"):
        return None
    mail = Mail(to=params["to"], subject=params["subject"], body=params["body"])
    progress(0.5, "sending")
    try:
        deliver(mail, message_id=params.get("message_id"))
    except smtplib.SMTPRecipientsRefused as exc:
        raise JobError(f"The mail server refused the recipient: {next(iter(exc.recipients.values()), '')}") from None
    except (OSError, smtplib.SMTPException) as exc:
        base = float(current_app.config.get("MESA_MAIL_RETRY_SECONDS", 60))
        raise RetryLater(f"The mail server did not take the message: {type(exc).__name__}: {exc}",
                         delay=min(base * 2 ** max(job.attempts - 1, 0), 3600)) from None
    # Sent: keep nothing personal in the table (one UPDATE of its own, see services._finish).
    db.session.rollback()
    with db.engine.begin() as conn:
        conn.execute(update(Job).where(Job.id == job.id).values(params_json='{"sent": true}'))
    return None


register("mail", Kind(run=run, rerun_after_crash=False))
