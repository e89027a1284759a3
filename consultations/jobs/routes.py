"""The page of a job (progress, then the file), "My downloads", trying again, and the
stored file with ETag / Last-Modified. Views stay thin: the rules are in services.py."""
from __future__ import annotations

import logging

from flask import Blueprint, Response, flash, jsonify, redirect, render_template, request, send_file, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from ..extensions import db
from ..http import fail, page_number
from . import notify, queue, services
from .documents import STAGES
from .forms import NotifyForm, RetryForm
from .models import Job

log = logging.getLogger(__name__)

bp = Blueprint("jobs", __name__, url_prefix="/downloads")

# Seconds between two reloads of the page of a job that is not finished, without JavaScript.
REFRESH_SECONDS = 3


def _job_or_404(job_id: int) -> Job:
    job = db.session.get(Job, job_id)
    if job is None or not services.may_see(job, current_user):
        fail(404)
    return job


def stage_label(job: Job) -> str:
    label = STAGES.get(job.stage)
    return str(label) if label is not None else job.stage


def label_of(job: Job) -> str:
    try:
        kind = services.kind_of(job)
    except services.JobError:
        return job.kind
    return kind.label(job) if kind.label else job.kind


def failure_reason(job: Job) -> str:
    """Why a job failed, for the person: a job's own message (JobError, written in the
    language of the person who asked), else a short translated reason; never a traceback."""
    error = (job.error or "").strip()
    if not error or error == services.UNEXPECTED:
        return _("an unexpected error in the program")
    if error.startswith(services.WORKER_STOPPED):
        return _("the worker making it stopped %(n)s times", n=job.attempts)
    return error[:300]


def file_response(job: Job, cache: str = "private, no-cache") -> Response:
    """The job's stored file: 304 when the browser has it (If-None-Match, If-Modified-Since)."""
    path = services.path_of(job)
    if job.status != "done" or path is None:
        fail(404)
    response = send_file(
        path, mimetype=job.mimetype or "application/octet-stream", conditional=True,
        etag=job.file_sha256, last_modified=job.finished_at, max_age=None,
    )
    if job.disposition:
        response.headers["Content-Disposition"] = job.disposition
    response.headers["Cache-Control"] = cache
    return response


def progress_page(job: Job) -> Response:
    """Where a download goes: the file when it is ready, its page otherwise."""
    if job.status == "done":
        return file_response(job)
    return redirect(url_for("jobs.show", job_id=job.id), code=303)


@bp.get("")
@login_required
def index():
    pagination = db.paginate(
        services.my_jobs(current_user), page=page_number(request.args.get("page")), per_page=20, error_out=False
    )
    return render_template("jobs/index.html", pagination=pagination, label_of=label_of, stage_label=stage_label)


@bp.get("/<int:job_id>")
def show(job_id: int):
    job = _job_or_404(job_id)
    notify_form = NotifyForm(notify=notify.wants(job, current_user))
    response = Response(render_template(
        "jobs/show.html", job=job, label=label_of(job), stage=stage_label(job), retry_form=RetryForm(),
        notify_form=notify_form, refresh=REFRESH_SECONDS,
        reason=failure_reason(job).rstrip(". ") if job.status == "failed" else "",
    ))
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.get("/<int:job_id>/status.json")
def status(job_id: int):
    job = _job_or_404(job_id)
    response = jsonify(
        status=job.status,
        progress=job.progress,
        stage=stage_label(job),
        error=failure_reason(job) if job.status == "failed" else "",
        file=url_for("jobs.file", job_id=job.id) if job.status == "done" else None,
    )
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.get("/<int:job_id>/file")
def file(job_id: int):
    return file_response(_job_or_404(job_id))


@bp.post("/<int:job_id>/retry")
def retry(job_id: int):
    job = _job_or_404(job_id)
    if not RetryForm().validate_on_submit():
        fail(400, _("Reload the page and try again."))
    if job.status != "failed":
        flash(_("This file is not in error: there is nothing to try again."), "info")
        return redirect(url_for("jobs.show", job_id=job.id), code=303)
    services.retry(job)
    db.session.commit()
    services.dispatch(job_id)  # by id: reading the job again would hold SQLite's write lock
    flash(_("Trying again."), "success")
    return redirect(url_for("jobs.show", job_id=job_id), code=303)


@bp.post("/<int:job_id>/notify")
def notify_me(job_id: int):
    """Tick (or untick) "e-mail me a link when it is ready" (signed-in people only: the
    page of a public version's file shows no such form to others)."""
    job = _job_or_404(job_id)
    if not current_user.is_authenticated:
        fail(404)
    form = NotifyForm()
    if not form.validate_on_submit():
        fail(400, _("Reload the page and try again."))
    wanted = bool(form.notify.data)
    if notify.ask(job, current_user, wanted):
        if wanted:
            flash(_("You will get an e-mail with a link to this page when the file is ready."), "success")
        else:
            flash(_("No e-mail will be sent for this file."), "info")
    else:
        flash(_("The file is finished already: see below."), "info")
    return redirect(url_for("jobs.show", job_id=job_id), code=303)


# -- downloads that are made by a job (called by the summaries' download views) ----------
def _params(params: dict, fmt: str) -> dict:
    from ..i18n import current_locale

    return {**params, "fmt": fmt, "locale": current_locale(), "base_url": request.url_root}


def document_download(params: dict, fmt: str, owner) -> Response:
    """A Word, PDF or spreadsheet file of live data, for ``owner``: the same file already
    being made is reused (clicking twice queues nothing), else a job is queued. The file
    when it is ready at once (immediate queue), its page otherwise."""
    from .documents import live_key

    params = _params(params, fmt)
    ident = params.get("consultation_id") or params.get("summary_id") or ",".join(str(i) for i in params.get("ids", ()))
    key = live_key(params["source"], ident, fmt, params["locale"])
    job = services.reusable(key, owner)
    if job is None:
        if services.unfinished_count(owner) >= services.setting("MESA_JOBS_PER_USER"):
            fail(429, _("You already have %(n)s files being made: wait until one is ready (see “My downloads”).",
                        n=services.setting("MESA_JOBS_PER_USER")))
        job = services.create("document", params, owner=owner, key=key)
        db.session.commit()
        log.info("document job %s queued (%s, %s)", job.id, params["source"], fmt)
        services.dispatch(job.id)
        db.session.refresh(job)
    return progress_page(job)


def queue_version_file(version, fmt: str, locale: str, base_url: str) -> Job:
    """The job that makes (or made) the stored file of a published version (no commit)."""
    from .documents import version_key

    key = version_key(version, fmt, locale)
    job = services.stored(key) or services.reusable(key)
    if job is None:
        job = services.create(
            "document", {"source": "version", "version_id": version.id, "fmt": fmt, "locale": locale,
                         "base_url": base_url}, key=key, keep=True,
        )
    return job


def stored_download(version, fmt: str) -> Response:
    """A published version's file: served from storage (ETag, Last-Modified, 304) when it
    was made by today's writers in this language; made by a job otherwise."""
    from ..i18n import current_locale

    job = queue_version_file(version, fmt, current_locale(), request.url_root)
    if job.status == "done":
        return file_response(job)
    if job.status == "queued" and job.attempts == 0 and job.started_at is None:
        db.session.commit()
        services.dispatch(job.id)
        db.session.refresh(job)
    return progress_page(job)


def prepare_version_files(version, formats, locales) -> list[int]:
    """Queue the files of a version just published (the caller commits, then dispatches)."""
    ids = []
    for locale in locales:
        for fmt in formats:
            job = queue_version_file(version, fmt, locale, request.url_root)
            if job.status == "queued":
                ids.append(job.id)
    return ids


def prepare_after_publish(version, consultation=None) -> int:
    """After a version is published (and committed): queue its files in the formats and
    languages the organiser ticked (``prepare_formats``, ``prepare_locales``; without the
    form's ``prepare`` field: every format, in the consultation's language, or in the
    current language for a national summary, ``consultation`` None). Nothing with an
    immediate queue (tests): the files are made on the first download instead."""
    from ..i18n import INTERFACE_LANGUAGES, current_locale
    from .documents import JOB_FORMATS

    if queue.is_immediate():
        return 0
    if request.form.get("prepare"):
        formats = [f for f in JOB_FORMATS if f in request.form.getlist("prepare_formats")]
        locales = [code for code in INTERFACE_LANGUAGES if code in request.form.getlist("prepare_locales")]
    else:
        formats = list(JOB_FORMATS)
        language = getattr(consultation, "language", None)
        locales = [language if language in INTERFACE_LANGUAGES else current_locale()]
    ids = prepare_version_files(version, formats, locales)
    db.session.commit()
    for job_id in ids:
        services.dispatch(job_id)
    log.info("version %s: %d file(s) queued", version.id, len(ids))
    return len(ids)
