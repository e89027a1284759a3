"""Jobs: create, queue, claim, run with a heartbeat and progress, store the file, retry,
recover the jobs of dead workers, clean up. Views and tasks call these; tests too.

A job's life: ``queued`` -> ``running`` (claimed by exactly one worker: an UPDATE that
only succeeds from ``queued``) -> ``done`` or ``failed``. While it runs, a thread of the
worker writes ``heartbeat_at`` every few seconds; a running job whose heartbeat is older
than ``MESA_JOB_STALE_SECONDS`` belonged to a worker that died (kill -9, out of memory,
machine restart) and :func:`recover_stale` queues it again, up to ``max_attempts``.
Files are written under a temporary name and renamed into place (``os.replace``): a
file is complete or absent, never half-written.
"""
from __future__ import annotations

import hashlib
import logging
import os
import tempfile
import threading
import time
import uuid
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Callable

from flask import current_app, has_request_context
from flask_babel import force_locale
from sqlalchemy import delete, event, func, select, update
from sqlalchemy.orm import Session

from ..database import reads_only
from ..extensions import db
from ..timeutil import utcnow
from . import queue
from .models import UNFINISHED, Job

log = logging.getLogger(__name__)

DEFAULTS = {
    "MESA_JOB_RETENTION_DAYS": 7,
    "MESA_JOB_STALE_SECONDS": 120,
    "MESA_JOB_HEARTBEAT_SECONDS": 10,
    "MESA_JOB_MAX_ATTEMPTS": 3,
    "MESA_JOBS_PER_USER": 5,
}


def setting(name: str):
    return current_app.config.get(name, DEFAULTS.get(name))


class JobError(Exception):
    """A job that cannot run, with a message for the person who asked (shown as is)."""


# Stored as the error of a job that failed on a bug or an unexpected condition: the person
# is shown a translated short reason and the job's number; the technical text is only in
# the log ("job N failed", with the traceback).
UNEXPECTED = "An unexpected error in the program (the technical details are in the worker's log)."
# The start of the error of a job whose worker stopped too often (recover_stale).
WORKER_STOPPED = "The worker making this stopped"


class RetryLater(Exception):
    """Raised by a job that failed for a passing reason (the mail server is down): it is
    queued again after ``delay`` seconds, until it has had ``max_attempts`` attempts."""

    def __init__(self, message: str, delay: float):
        super().__init__(message)
        self.delay = delay


@dataclass
class Output:
    """What a job made: the bytes of a file and how to serve it."""

    data: bytes
    ext: str
    mimetype: str
    disposition: str


@dataclass
class Kind:
    run: Callable  # run(job, progress) -> Output | None
    may_see: Callable | None = None  # may_see(job, user) -> bool, for owner-less jobs too
    # Run it again when its worker died mid-way? Never for mail: it may have been sent.
    rerun_after_crash: bool = True
    label: Callable | None = None  # label(job) -> str, for the pages


KINDS: dict[str, Kind] = {}


def register(name: str, kind: Kind) -> Kind:
    KINDS[name] = kind
    return kind


def kind_of(job: Job) -> Kind:
    from . import documents, mailjobs  # noqa: F401  (register the kinds)

    try:
        return KINDS[job.kind]
    except KeyError:
        raise JobError(f"Unknown kind of job {job.kind!r}.") from None


# -- files ----------------------------------------------------------------------------
def files_dir() -> Path:
    configured = current_app.config.get("MESA_FILES_DIR")
    if configured:
        path = Path(configured)
    elif current_app.testing:
        # A test app without a folder of its own must not write into the checkout.
        path = Path(current_app.extensions.setdefault("mesa_test_files", tempfile.mkdtemp(prefix="mesa-files-")))
    else:
        path = Path(current_app.instance_path) / "files"
    path.mkdir(parents=True, exist_ok=True)
    return path


def store_file(job_id: int, data: bytes, ext: str) -> tuple[str, int, str]:
    """Write ``data`` as the job's file, atomically: (relative name, size, sha256)."""
    folder = files_dir()
    digest = hashlib.sha256(data).hexdigest()
    name = f"{job_id}-{digest[:16]}.{ext}"
    temporary = folder / f".tmp-{uuid.uuid4().hex}"
    try:
        with open(temporary, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(temporary, folder / name)
    finally:
        if temporary.exists():
            temporary.unlink()
    return name, len(data), digest


def path_of(job: Job) -> Path | None:
    """The job's file, when it exists."""
    if not job.file_path or "/" in job.file_path or job.file_path.startswith("."):
        return None
    path = files_dir() / job.file_path
    return path if path.is_file() else None


def _remove_file(job: Job) -> None:
    path = path_of(job)
    if path is not None:
        try:
            path.unlink()
        except OSError:
            log.warning("could not delete the file of job %s", job.id, exc_info=True)


# -- creating and queueing ------------------------------------------------------------
def create(kind: str, params: dict, owner=None, key: str | None = None, keep: bool = False,
           max_attempts: int | None = None) -> Job:
    """A queued job (added and flushed, not yet on the queue: commit, then :func:`dispatch`,
    or use :func:`submit` to queue it when the transaction commits)."""
    now = utcnow()
    job = Job(
        kind=kind,
        owner_id=getattr(owner, "id", owner),
        key=key,
        status="queued",
        progress=0,
        stage="queued",
        attempts=0,
        error="",
        max_attempts=max_attempts or setting("MESA_JOB_MAX_ATTEMPTS"),
        heartbeat_at=now,
        created_at=now,
        expires_at=None if keep else now + timedelta(days=setting("MESA_JOB_RETENTION_DAYS")),
    )
    job.params = params
    db.session.add(job)
    db.session.flush()
    return job


def dispatch(job_id: int, delay: float = 0) -> None:
    """Put a committed job on the queue; in immediate mode (tests), run it now."""
    if queue.is_immediate():
        execute(job_id)
        db.session.commit()  # end the snapshot the caller's session read the job in
        return
    from .tasks import run_job

    if delay > 0:
        run_job.schedule((job_id,), delay=delay)
    else:
        run_job(job_id)


_PENDING = "mesa_jobs_after_commit"


def submit(job: Job) -> Job:
    """Queue the job once the current transaction commits (nothing if it rolls back):
    a worker never looks for a row that is not there yet."""
    db.session.info.setdefault(_PENDING, []).append(job.id)
    return job


@event.listens_for(Session, "after_commit")
def _dispatch_after_commit(session):
    pending = session.info.pop(_PENDING, None)
    for job_id in pending or ():
        try:
            from .tasks import run_job

            run_job(job_id)
        except Exception:  # the queue is down: recover_stale() queues it again later
            log.exception("could not queue job %s; it will be queued again by the recovery task", job_id)


@event.listens_for(Session, "after_rollback")
def _forget_after_rollback(session):
    session.info.pop(_PENDING, None)


def reusable(key: str, owner=None) -> Job | None:
    """An unfinished job that makes the same thing (clicking twice queues nothing new)."""
    stmt = select(Job).where(Job.key == key, Job.status.in_(UNFINISHED))
    stmt = stmt.where(Job.owner_id == owner.id) if owner is not None else stmt.where(Job.owner_id.is_(None))
    return db.session.scalar(stmt.order_by(Job.id.desc()).limit(1))


def stored(key: str) -> Job | None:
    """The newest finished job with this key whose file is there."""
    for job in db.session.scalars(
        select(Job).where(Job.key == key, Job.status == "done", Job.owner_id.is_(None)).order_by(Job.id.desc()).limit(3)
    ):
        if path_of(job) is not None:
            return job
    return None


def unfinished_count(owner) -> int:
    return db.session.scalar(
        select(func.count()).select_from(Job).where(Job.owner_id == owner.id, Job.status.in_(UNFINISHED))
    ) or 0


def may_see(job: Job, user) -> bool:
    """The owner (who still may read what the job makes), or for a job of nobody's (the
    files of a published version) whoever may read that version."""
    authenticated = user is not None and getattr(user, "is_authenticated", False)
    if job.owner_id is not None and not (authenticated and user.id == job.owner_id):
        return False
    try:
        kind = kind_of(job)
    except JobError:
        return False
    if kind.may_see is None:
        return job.owner_id is not None
    return bool(kind.may_see(job, user))


def retry(job: Job) -> Job:
    """A failed job, queued again (the caller commits, then dispatches)."""
    if job.status != "failed":
        raise JobError("Only a failed job can be tried again.")
    _remove_file(job)
    job.status = "queued"
    job.progress = 0
    job.stage = "queued"
    job.error = ""
    job.attempts = 0
    job.finished_at = None
    job.file_path = None
    job.heartbeat_at = utcnow()
    job.expires_at = None if job.expires_at is None else utcnow() + timedelta(days=setting("MESA_JOB_RETENTION_DAYS"))
    db.session.flush()
    return job


# -- running --------------------------------------------------------------------------
def claim(job_id: int) -> bool:
    """Take a queued job for this worker; False when another took it or it is finished."""
    now = utcnow()
    with db.engine.begin() as conn:
        taken = conn.execute(
            update(Job)
            .where(Job.id == job_id, Job.status == "queued")
            .values(status="running", attempts=Job.attempts + 1, started_at=now, heartbeat_at=now,
                    progress=0, stage="starting", error="")
        ).rowcount
    return taken == 1


def _write_progress(engine, job_id: int, fraction: float | None, stage: str | None) -> None:
    values = {"heartbeat_at": utcnow()}
    if fraction is not None:
        values["progress"] = max(0, min(99, int(fraction * 100)))
    if stage is not None:
        values["stage"] = stage[:200]
    with engine.begin() as conn:
        conn.execute(update(Job).where(Job.id == job_id, Job.status == "running").values(**values))


class _Heartbeat(threading.Thread):
    """Writes the job's heartbeat while it runs, whatever the job is doing."""

    def __init__(self, engine, job_id: int, every: float):
        super().__init__(name=f"mesa-job-{job_id}-heartbeat", daemon=True)
        self.engine, self.job_id, self.every = engine, job_id, every
        self.stopped = threading.Event()

    def run(self):
        while not self.stopped.wait(self.every):
            try:
                _write_progress(self.engine, self.job_id, None, None)
            except Exception:
                log.warning("heartbeat of job %s not written", self.job_id, exc_info=True)


def progress_reporter(job_id: int) -> Callable:
    """progress(fraction 0..1 or None, stage code or None): written at most every 0.5 s
    (and always when the stage changes)."""
    engine = db.engine
    last = {"at": 0.0, "stage": None}

    def progress(fraction: float | None = None, stage: str | None = None) -> None:
        now = time.monotonic()
        if stage == last["stage"] and now - last["at"] < 0.5:
            return
        last.update(at=now, stage=stage if stage is not None else last["stage"])
        try:
            _write_progress(engine, job_id, fraction, stage)
        except Exception:  # progress is a courtesy: never fail the job for it
            log.warning("progress of job %s not written", job_id, exc_info=True)

    return progress


def execute(job_id: int) -> str | None:
    """Run one job if it can be claimed: the task a worker runs. Returns its new status."""
    if not claim(job_id):
        log.info("job %s already taken or finished", job_id)
        return None
    heartbeat = _Heartbeat(db.engine, job_id, setting("MESA_JOB_HEARTBEAT_SECONDS"))
    heartbeat.start()
    status = None
    try:
        status = _run_claimed(job_id)
    finally:
        heartbeat.stopped.set()
        heartbeat.join(timeout=5)
        try:
            if status in ("done", "failed"):
                _notify(job_id)
        finally:
            db.session.remove() if not has_request_context() else None
    return status


def _notify(job_id: int) -> None:
    """The e-mails asked for on the page of a job that just finished (notify.py)."""
    from . import notify

    try:
        notify.send_when_finished(job_id)
    except Exception:  # the file is made: a mail that cannot be queued must not undo that
        db.session.rollback()
        log.exception("job %s: the e-mails with its link could not be queued", job_id)


def _context(job: Job):
    """The request context a job runs in: its own, with the file's language, in a worker;
    the current one (and the file's language) in immediate mode."""
    import contextlib

    locale = job.params.get("locale") or "en"
    stack = contextlib.ExitStack()
    if not has_request_context():
        base = job.params.get("base_url") or current_app.config.get("MESA_BASE_URL") or "http://localhost/"
        stack.enter_context(current_app.test_request_context("/", base_url=base))
    stack.enter_context(force_locale(locale))
    return stack


def _finish(job_id: int, **values) -> None:
    """One UPDATE in a transaction of its own: on SQLite a transaction that read before
    writing would fail when the heartbeat wrote in between."""
    with db.engine.begin() as conn:
        conn.execute(update(Job).where(Job.id == job_id).values(**values))


def _run_claimed(job_id: int) -> str:
    job = db.session.get(Job, job_id)
    db.session.refresh(job)
    kind_name = job.kind
    started = time.monotonic()
    try:
        kind = kind_of(job)
        with _context(job), reads_only():
            output = kind.run(job, progress_reporter(job_id))
    except RetryLater as exc:
        db.session.rollback()
        attempts, max_attempts = job.attempts, job.max_attempts
        if attempts < max_attempts:
            _finish(job_id, status="queued", stage="waiting", error=str(exc)[:2000],
                    heartbeat_at=utcnow() + timedelta(seconds=exc.delay))
            log.warning("job %s (%s) attempt %s of %s failed, again in %.0f s: %s",
                        job_id, kind_name, attempts, max_attempts, exc.delay, exc)
            if not queue.is_immediate():
                dispatch(job_id, delay=exc.delay)
            return "queued"
        return _fail(job_id, str(exc))
    except JobError as exc:
        db.session.rollback()
        return _fail(job_id, str(exc))
    except Exception as exc:
        db.session.rollback()
        log.exception("job %s (%s) failed: %s", job_id, kind_name, type(exc).__name__)
        return _fail(job_id, UNEXPECTED)
    db.session.rollback()  # end the reading transaction before writing
    values = dict(status="done", progress=100, stage="done", finished_at=utcnow())
    if output is not None:
        name, size, digest = store_file(job_id, output.data, output.ext)
        values.update(file_path=name, file_size=size, file_sha256=digest,
                      mimetype=output.mimetype, disposition=output.disposition[:500])
    _finish(job_id, **values)
    log.info("job %s (%s) done in %.1f s", job_id, kind_name, time.monotonic() - started)
    return "done"


def _fail(job_id: int, message: str) -> str:
    message = (message or "The job failed.")[:2000]
    _finish(job_id, status="failed", stage="failed", error=message, finished_at=utcnow())
    log.warning("job %s failed: %s", job_id, message)
    return "failed"


# -- periodic work ----------------------------------------------------------------------
def recover_stale() -> dict:
    """Jobs whose worker died: queued again (up to max_attempts) or failed with the reason.
    Queued jobs whose queue message was lost are queued again too (claim() makes a second
    message harmless)."""
    now = utcnow()
    stale = now - timedelta(seconds=setting("MESA_JOB_STALE_SECONDS"))
    counts = {"requeued": 0, "failed": 0, "redispatched": 0}
    again, failed = [], []
    for job in db.session.scalars(select(Job).where(Job.status == "running", Job.heartbeat_at < stale)):
        try:
            rerun = kind_of(job).rerun_after_crash
        except JobError:
            rerun = False
        if rerun and job.attempts < job.max_attempts:
            job.status = "queued"
            job.stage = "queued"
            job.heartbeat_at = now
            again.append(job.id)
            counts["requeued"] += 1
            log.warning("job %s (%s): its worker stopped; queued again (attempt %s of %s)",
                        job.id, job.kind, job.attempts + 1, job.max_attempts)
        else:
            job.status = "failed"
            job.stage = "failed"
            job.finished_at = now
            job.error = (
                "The worker stopped while sending this message; it is not sent again, so that nobody gets it twice."
                if not rerun
                else f"{WORKER_STOPPED} {job.attempts} times; try again later or ask the administrator."
            )
            counts["failed"] += 1
            failed.append(job.id)
            log.warning("job %s (%s): its worker stopped; failed", job.id, job.kind)
    lost = now - timedelta(seconds=5 * setting("MESA_JOB_STALE_SECONDS"))
    for job_id in db.session.scalars(select(Job.id).where(Job.status == "queued", Job.heartbeat_at < lost)):
        again.append(job_id)
        counts["redispatched"] += 1
    db.session.query(Job).filter(Job.id.in_(again)).update({Job.heartbeat_at: now}, synchronize_session=False)
    db.session.commit()
    for job_id in failed:
        _notify(job_id)
    for job_id in again:
        dispatch(job_id)
    return counts


def cleanup() -> int:
    """Delete expired jobs with their files, and temporary files left by dead workers."""
    now = utcnow()
    expired = list(db.session.scalars(select(Job).where(Job.expires_at.is_not(None), Job.expires_at < now)))
    for job in expired:
        _remove_file(job)
    if expired:
        db.session.execute(delete(Job).where(Job.id.in_([j.id for j in expired])))
    db.session.commit()
    folder = files_dir()
    cutoff = time.time() - 3600
    for leftover in folder.glob(".tmp-*"):
        try:
            if leftover.stat().st_mtime < cutoff:
                leftover.unlink()
        except OSError:
            pass
    return len(expired)


def my_jobs(owner):
    return select(Job).where(Job.owner_id == owner.id, Job.kind != "mail").order_by(Job.id.desc())


