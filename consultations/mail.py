"""Sending e-mail, through a backend chosen by ``MESA_MAIL_BACKEND``.

- ``console`` (default): the message is written to standard error (the development
  server's console, gunicorn's error log). Nothing leaves the machine.
- ``smtp``: sent through ``MESA_SMTP_HOST``:``MESA_SMTP_PORT`` (STARTTLS when
  ``MESA_SMTP_STARTTLS=1``, login when ``MESA_SMTP_USER`` is set).
- ``memory``: kept in ``app.extensions["mesa_outbox"]`` (a list), for tests.

Callers use :func:`send_mail` and :func:`absolute_url`; links in e-mails are built from
``MESA_BASE_URL`` when it is set, so a forged ``Host`` header cannot redirect them.

The message goes out through the job queue (consultations/jobs/mailjobs.py): it is queued
when the caller's transaction commits (nothing is sent for a change that is rolled back),
sent by a worker, tried again while the mail server is unreachable, and never sent twice.
The ``memory`` backend and the ``immediate`` queue (tests) send at once, in the process.
"""
from __future__ import annotations

import logging
import smtplib
import sys
import uuid
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import make_msgid

from flask import current_app, request, url_for

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Mail:
    to: str
    subject: str
    body: str


def outbox() -> list[Mail]:
    """Messages kept by the ``memory`` backend."""
    return current_app.extensions.setdefault("mesa_outbox", [])


def absolute_url(endpoint: str, **values) -> str:
    base = current_app.config.get("MESA_BASE_URL") or request.url_root
    return base.rstrip("/") + url_for(endpoint, **values)


def send_mail(to: str, subject: str, body: str) -> Mail:
    """Send a rendered message: queued for a worker once the current transaction commits,
    or sent now with the ``memory`` backend or an ``immediate`` queue."""
    mail = Mail(to=to, subject=subject, body=body)
    backend = current_app.config.get("MESA_MAIL_BACKEND", "console")
    if backend not in ("memory", "smtp", "console"):
        raise RuntimeError(f"Unknown MESA_MAIL_BACKEND {backend!r} (console, smtp or memory).")
    from .jobs import queue

    if backend == "memory" or queue.is_immediate():
        deliver(mail)
        return mail
    from .jobs import services as jobs

    domain = (current_app.config.get("MESA_MAIL_FROM") or "").rsplit("@", 1)[-1].strip(" >") or None
    job = jobs.create(
        "mail",
        {"to": mail.to, "subject": mail.subject, "body": mail.body,
         "message_id": make_msgid(idstring=uuid.uuid4().hex[:12], domain=domain)},
        max_attempts=int(current_app.config.get("MESA_MAIL_ATTEMPTS", 8)),
    )
    jobs.submit(job)
    log.info("e-mail queued as job %s", job.id)
    return mail


def deliver(mail: Mail, message_id: str | None = None) -> None:
    """Hand the message to the backend now (the mail job, or send_mail in tests)."""
    backend = current_app.config.get("MESA_MAIL_BACKEND", "console")
    if backend == "memory":
        outbox().append(mail)
    elif backend == "smtp":
        _send_smtp(mail, message_id)
    elif backend == "console":
        sys.stderr.write(
            "\n----- e-mail (MESA_MAIL_BACKEND=console) -----\n"
            f"To: {mail.to}\nSubject: {mail.subject}\n\n{mail.body}\n"
            "----------------------------------------------\n"
        )
        sys.stderr.flush()
    else:
        raise RuntimeError(f"Unknown MESA_MAIL_BACKEND {backend!r} (console, smtp or memory).")


def _send_smtp(mail: Mail, message_id: str | None = None) -> None:
    config = current_app.config
    message = EmailMessage()
    if message_id:
        message["Message-ID"] = message_id
    message["From"] = config["MESA_MAIL_FROM"]
    message["To"] = mail.to
    message["Subject"] = mail.subject
    message.set_content(mail.body)
    with smtplib.SMTP(config["MESA_SMTP_HOST"], int(config["MESA_SMTP_PORT"]), timeout=20) as smtp:
        if config.get("MESA_SMTP_STARTTLS"):
            smtp.starttls()
        if config.get("MESA_SMTP_USER"):
            smtp.login(config["MESA_SMTP_USER"], config.get("MESA_SMTP_PASSWORD") or "")
        smtp.send_message(message)
