"""Background jobs with a real worker process (issue 13): a job completes and its progress
advances, a killed worker's job is retried by another, a failing job says why and can be
retried, a published version's file is made once and served again (ETag, 304), schedules
open and close consultations, mail goes through the queue and is retried while the mail
server is down. The queue is a SQLite file, and Redis too when it answers on 127.0.0.1."""
from __future__ import annotations

import io
import os
import signal
import socket
import subprocess
import sys
import time
import uuid
import zipfile
from datetime import date, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select, update

from consultations.database import reads_only
from consultations.extensions import db
from consultations.jobs import queue, schedules, services
from consultations.jobs.models import Job
from consultations.timeutil import utcnow

from . import jobkinds  # noqa: F401  (the test kinds)
from .conftest import PASSWORD

ROOT = Path(__file__).resolve().parent.parent
WAIT = 45  # seconds: every wait in these tests is bounded


def _redis_answers() -> bool:
    try:
        with socket.create_connection(("127.0.0.1", 6379), timeout=0.5) as sock:
            sock.sendall(b"PING\r\n")
            return sock.recv(16).startswith(b"+PONG")
    except OSError:
        return False


BACKENDS = ["sqlite", pytest.param("redis", marks=pytest.mark.skipif(not _redis_answers(), reason="no Redis on 127.0.0.1:6379"))]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Workers:
    """Starts real worker processes on the test's queue and database; stops them all."""

    def __init__(self, app, tmp_path, env):
        self.app, self.tmp_path, self.env, self.procs = app, tmp_path, env, []

    def start(self, module: str = "tests.jobworker"):
        log_path = self.tmp_path / f"worker-{len(self.procs)}.log"
        if module == "flask":
            command = [str(ROOT / ".venv" / "bin" / "flask"), "--app", "app", "worker"]
            if not Path(command[0]).exists():
                command = [sys.executable, "-m", "flask", "--app", "app", "worker"]
        else:
            command = [sys.executable, "-m", module]
        with open(log_path, "wb") as log:  # the child keeps its own copy of the descriptor
            proc = subprocess.Popen(command, cwd=ROOT, env=self.env, stdout=log, stderr=subprocess.STDOUT)
        proc.log_path = log_path
        self.procs.append(proc)
        return proc

    def kill(self, proc):
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=10)

    def stop(self):
        for proc in self.procs:
            if proc.poll() is None:
                proc.send_signal(signal.SIGINT)
        for proc in self.procs:
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(timeout=10)

    def logs(self) -> str:
        return "\n".join(Path(p.log_path).read_text(errors="replace")[-3000:] for p in self.procs)


def start_queue(app, tmp_path, backend: str = "sqlite") -> Workers:
    """Point ``app`` at a queue of its own (a SQLite file, or a uniquely named Redis
    queue) and files in ``tmp_path``; the returned pool starts workers with the same
    settings and database."""
    name = f"mesa-test-{uuid.uuid4().hex[:10]}"
    url = f"sqlite:///{tmp_path / 'queue.sqlite3'}" if backend == "sqlite" else "redis://127.0.0.1:6379/0"
    settings = {
        "MESA_QUEUE_URL": url,
        "MESA_QUEUE_NAME": name,
        "MESA_FILES_DIR": str(tmp_path / "files"),
        "MESA_JOB_STALE_SECONDS": 2,
        "MESA_JOB_HEARTBEAT_SECONDS": 0.5,
        "MESA_MAIL_RETRY_SECONDS": 1,
    }
    app.config.update(settings)
    queue.configure(app)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("MESA_", "DATABASE_URL"))}
    env.update({k: str(v) for k, v in settings.items()})
    env.update(
        DATABASE_URL=app.config["SQLALCHEMY_DATABASE_URI"],
        MESA_INSTANCE_PATH=str(tmp_path / "instance"),
        SECRET_KEY="test-secret",
        MESA_RATELIMIT_ENABLED="0",
        PYTHONUNBUFFERED="1",
    )
    return Workers(app, tmp_path, env)


def stop_queue(app, pool: Workers) -> None:
    pool.stop()
    try:
        queue.huey.storage.flush_all()
    finally:
        app.config["MESA_QUEUE_URL"] = ""
        queue.configure(app)


@pytest.fixture(params=BACKENDS)
def workers(request, app, tmp_path):
    pool = start_queue(app, tmp_path, request.param)
    yield pool
    stop_queue(app, pool)


def _fresh(job_id: int) -> Job:
    """The job as the database has it now. Read in a deferred transaction: the test's
    session outlives its requests, and after a POST it would otherwise take SQLite's write
    lock for every read (BEGIN IMMEDIATE) and starve the worker."""
    db.session.rollback()
    db.session.expire_all()
    with reads_only():
        job = db.session.get(Job, job_id)
        if job is not None:
            db.session.refresh(job)
            db.session.expunge(job)  # read once: no lazy reload in a transaction of the stale POST
    db.session.commit()
    return job


def _wait(predicate, workers, what: str, timeout: float = WAIT):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.1)
    pytest.fail(f"timed out waiting for {what}\n--- worker logs ---\n{workers.logs()}")


def _submit(kind: str, params: dict, owner=None) -> int:
    job = services.create(kind, params, owner=owner)
    db.session.commit()
    services.dispatch(job.id)
    return job.id


def _get(client, url, **kwargs):
    """GET, read the body and close the response (a file response holds the file open)."""
    response = client.get(url, **kwargs)
    response.get_data()
    response.close()
    return response


def _login(client, user):
    client.post("/login", data={"email": user.email, "password": PASSWORD})
    return client


# -- jobs -------------------------------------------------------------------------------
def test_a_job_completes_and_its_progress_advances(app, client, workers, make_user):
    owner = make_user()
    workers.start()
    job_id = _submit("test.steps", {"steps": 12, "sleep": 0.25}, owner=owner)
    seen = []
    deadline = time.monotonic() + WAIT
    while time.monotonic() < deadline:
        job = _fresh(job_id)
        if not seen or seen[-1] != job.progress:
            seen.append(job.progress)
        if job.status == "done":
            break
        time.sleep(0.1)
    assert job.status == "done", workers.logs()
    assert job.attempts == 1
    assert len(set(seen)) >= 4, seen  # several steps seen between 0 and 100
    assert seen == sorted(seen) and seen[-1] == 100
    # The owner downloads it; the page is a polite live region.
    _login(client, owner)
    page = _get(client, f"/downloads/{job_id}").get_data(as_text=True)
    assert 'role="status"' in page and 'aria-live="polite"' in page
    response = _get(client, f"/downloads/{job_id}/file")
    assert response.status_code == 200 and response.data == b"x" * 1000
    assert response.headers["ETag"].strip('"') == job.file_sha256
    # Nobody else sees it.
    other = _login(app.test_client(), make_user())
    assert _get(other, f"/downloads/{job_id}").status_code == 404
    assert _get(other, f"/downloads/{job_id}/file").status_code == 404


def test_a_killed_workers_job_is_run_again_by_another(app, workers, make_user):
    first = workers.start()
    job_id = _submit("test.steps", {"steps": 40, "sleep": 0.25, "size": 200_000}, owner=make_user())
    _wait(lambda: _fresh(job_id).progress >= 10, workers, "the job to start")
    workers.kill(first)  # kill -9, mid-job
    time.sleep(0.5)
    job = _fresh(job_id)
    assert job.status == "running" and job.attempts == 1
    assert job.file_path is None
    # The dead worker's heartbeat stops; the recovery task queues the job again.
    time.sleep(app.config["MESA_JOB_STALE_SECONDS"] + 0.5)
    assert services.recover_stale()["requeued"] == 1
    assert _fresh(job_id).status == "queued"
    workers.start()
    _wait(lambda: _fresh(job_id).status == "done", workers, "the job to be done by the second worker")
    job = _fresh(job_id)
    assert job.attempts == 2
    path = services.path_of(job)
    assert path.read_bytes() == b"x" * 200_000  # complete
    assert [p.name for p in path.parent.iterdir()] == [path.name]  # nothing half-written beside it


def test_a_job_whose_worker_dies_too_often_fails_with_the_reason(app, workers, make_user):
    job = services.create("test.steps", {"steps": 1, "sleep": 0}, owner=make_user(), max_attempts=1)
    job.status, job.attempts = "running", 1
    job.heartbeat_at = utcnow() - timedelta(minutes=5)
    db.session.commit()
    assert services.recover_stale()["failed"] == 1
    job = _fresh(job.id)
    assert job.status == "failed" and "stopped 1 times" in job.error


def test_a_failing_job_reports_its_error_and_can_be_retried(app, client, workers, make_user, tmp_path):
    owner = make_user()
    marker = tmp_path / "marker"
    workers.start()
    job_id = _submit("test.fails", {"marker": str(marker)}, owner=owner)
    _wait(lambda: _fresh(job_id).status == "failed", workers, "the job to fail")
    _login(client, owner)
    page = _get(client, f"/downloads/{job_id}").get_data(as_text=True)
    assert "The test job failed on purpose." in page
    assert "Try again" in page
    assert _get(client, f"/downloads/{job_id}/file").status_code == 404
    marker.write_text("now it works")
    response = client.post(f"/downloads/{job_id}/retry")
    assert response.status_code == 303
    _wait(lambda: _fresh(job_id).status == "done", workers, "the retried job")
    assert _get(client, f"/downloads/{job_id}/file").data == b"made at last"


def test_retry_needs_the_csrf_token(csrf_app, make_user, tmp_path):
    owner = make_user()
    job = services.create("test.fails", {"marker": str(tmp_path / "absent")}, owner=owner)
    db.session.commit()
    services.execute(job.id)
    client = _login(csrf_app.test_client(), owner)
    assert client.post(f"/downloads/{job.id}/retry").status_code == 400
    assert _fresh(job.id).status == "failed"


# -- downloads of summaries -------------------------------------------------------------
@pytest.fixture
def summary(app, make_user, make_consultation, make_contribution):
    from consultations.consultations.services import change_state

    organiser = make_user(role="organiser")
    consultation = make_consultation(organiser=organiser, state="open", title="Jobs consultation")
    for n in range(6):
        make_contribution(consultation, title=f"Proposal {n}")
    change_state(consultation, "closed")
    db.session.commit()
    return consultation, organiser


def test_a_word_download_is_made_by_the_flask_worker(app, client, workers, summary):
    consultation, organiser = summary
    workers.start("flask")
    _login(client, organiser)
    response = _get(client, f"/consultations/{consultation.id}/summary/download.docx")
    assert response.status_code == 303
    page_url = response.headers["Location"]
    page = _get(client, page_url)
    assert page.status_code == 200 and 'role="status"' in page.get_data(as_text=True)
    job_id = int(page_url.rsplit("/", 1)[1])
    # Asking again while it is made queues nothing new.
    again = _get(client, f"/consultations/{consultation.id}/summary/download.docx")
    assert again.headers["Location"] == page_url
    _wait(lambda: _fresh(job_id).finished, workers, "the Word file")
    assert _fresh(job_id).status == "done", _fresh(job_id).error
    status = _get(client, f"/downloads/{job_id}/status.json").get_json()
    assert status["status"] == "done" and status["progress"] == 100
    response = _get(client, status["file"])
    assert response.status_code == 200
    assert response.headers["Content-Disposition"].startswith('attachment; filename="summary-jobs-consultation')
    document = zipfile.ZipFile(io.BytesIO(response.data))
    assert "Proposal 5" in document.read("word/document.xml").decode()
    # "My downloads" lists it.
    assert f"/downloads/{job_id}" in _get(client, "/downloads").get_data(as_text=True)


def test_a_published_version_is_made_once_and_served_again(app, client, workers, summary):
    consultation, organiser = summary
    from consultations.summaries import services as summaries

    _login(client, organiser)
    revision = summaries.summary_for(consultation).revision
    db.session.commit()
    workers.start()
    response = client.post(f"/consultations/{consultation.id}/summary/publish",
                           data={"revision": revision, "note": "", "prepare": "1",
                                 "prepare_formats": ["xlsx"], "prepare_locales": ["en"]})
    assert response.status_code == 302
    prepared = db.session.scalars(select(Job).where(Job.owner_id.is_(None))).all()
    assert [(j.params["fmt"], j.params["locale"]) for j in prepared] == [("xlsx", "en")]
    _wait(lambda: _fresh(prepared[0].id).status == "done", workers, "the version's spreadsheet")
    url = f"/consultations/{consultation.id}/summary/versions/1/download.xlsx"
    first = _get(client, url)
    assert first.status_code == 200
    etag = first.headers["ETag"]
    assert first.headers["Last-Modified"]
    path = services.path_of(_fresh(prepared[0].id))
    made_at = path.stat().st_mtime_ns
    second = _get(client, url)
    assert second.status_code == 200 and second.data == first.data and second.headers["ETag"] == etag
    assert _get(client, url, headers={"If-None-Match": etag}).status_code == 304
    assert db.session.scalar(select(db.func.count()).select_from(Job)) == 1  # nothing made again
    assert path.stat().st_mtime_ns == made_at
    # Another language is made on demand, once.
    response = _get(client, url + "?lang=es")
    assert response.status_code == 303
    job_id = int(response.headers["Location"].rsplit("/", 1)[1])
    _wait(lambda: _fresh(job_id).status == "done", workers, "the Spanish spreadsheet")
    spanish = _get(client, url + "?lang=es")
    assert spanish.status_code == 200 and spanish.headers["ETag"] != etag


def test_stored_files_of_an_older_writer_are_made_again(app, client, summary, monkeypatch):
    """A stored file made by another version of the writers is not served: a new one is made."""
    from consultations.jobs import documents
    from consultations.summaries import services as summaries

    consultation, organiser = summary
    _login(client, organiser)
    revision = summaries.summary_for(consultation).revision
    db.session.commit()
    client.post(f"/consultations/{consultation.id}/summary/publish", data={"revision": revision})
    url = f"/consultations/{consultation.id}/summary/versions/1/download.xlsx"
    assert _get(client, url).status_code == 200  # immediate queue: made at once
    assert db.session.scalar(select(db.func.count()).select_from(Job)) == 1
    assert _get(client, url).status_code == 200
    assert db.session.scalar(select(db.func.count()).select_from(Job)) == 1
    monkeypatch.setattr(documents, "documents_version", lambda: "new-writers")
    assert _get(client, url).status_code == 200
    assert db.session.scalar(select(db.func.count()).select_from(Job)) == 2


def test_there_is_no_cap_on_word_and_pdf_by_default(app, client, summary):
    consultation, organiser = summary
    assert not app.config.get("MESA_SUMMARY_DOCUMENT_LIMIT")
    _login(client, organiser)
    response = _get(client, f"/consultations/{consultation.id}/summary/download.pdf")
    assert response.status_code == 200 and response.data.startswith(b"%PDF")


def test_unfinished_downloads_per_person_are_bounded(app, client, summary, workers):
    consultation, organiser = summary
    app.config["MESA_JOBS_PER_USER"] = 1
    _login(client, organiser)  # no worker started: the jobs stay queued
    assert _get(client, f"/consultations/{consultation.id}/summary/download.docx").status_code == 303
    response = _get(client, f"/consultations/{consultation.id}/summary/download.pdf")
    assert response.status_code == 429
    assert "My downloads" in response.get_data(as_text=True)


# -- schedules ---------------------------------------------------------------------------
def test_schedules_open_and_close_consultations(app, workers, make_consultation):
    from consultations.audit.models import AuditEvent
    from consultations.jobs import tasks

    today = date.today()
    to_open = make_consultation(state="draft", opens_on=today - timedelta(days=1), closes_on=today + timedelta(days=5))
    to_close = make_consultation(state="open", opens_on=today - timedelta(days=9), closes_on=today - timedelta(days=1))
    made_today = make_consultation(state="draft", opens_on=today, closes_on=today + timedelta(days=5))
    reopened = make_consultation(state="open", opens_on=today - timedelta(days=9), closes_on=today - timedelta(days=2))
    long_ago = utcnow() - timedelta(days=20)
    to_open.state_changed_at = to_close.state_changed_at = long_ago
    db.session.commit()
    ids = (to_open.id, to_close.id, made_today.id, reopened.id)
    workers.start()
    tasks.apply_schedules()  # what the scheduler queues every minute

    def states():
        db.session.rollback()
        db.session.expire_all()
        with reads_only():
            found = [db.session.get(type(to_open), i).state for i in ids]
        db.session.commit()
        return found

    _wait(lambda: states()[:2] == ["open", "closed"], workers, "the schedule")
    # A draft made today with today's date waits for its organiser; a consultation
    # reopened after its closing date stays open.
    assert states()[2:] == ["draft", "open"]
    events = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "consultation.state_changed")).all()
    assert sorted((e.target_id, e.details["state"], e.actor_id) for e in events) == sorted(
        [(to_open.id, "open", None), (to_close.id, "closed", None)]
    )
    assert schedules.apply_schedules() == []  # nothing left to do


# -- mail --------------------------------------------------------------------------------
class _Collect:
    def __init__(self):
        self.messages = []

    async def handle_DATA(self, server, session, envelope):
        self.messages.append(envelope)
        return "250 OK"


def test_mail_goes_through_the_queue_and_is_retried_while_the_server_is_down(app, workers):
    from aiosmtpd.controller import Controller

    from consultations.mail import send_mail

    port = _free_port()
    app.config.update(MESA_MAIL_BACKEND="smtp", MESA_SMTP_HOST="127.0.0.1", MESA_SMTP_PORT=port)
    workers.env.update(MESA_MAIL_BACKEND="smtp", MESA_SMTP_HOST="127.0.0.1", MESA_SMTP_PORT=str(port))
    workers.start()
    with app.test_request_context("/"):
        send_mail("someone@example.org", "Hello", "A message through the queue.")
        job_id = db.session.scalar(select(Job.id).where(Job.kind == "mail"))
        db.session.commit()  # queued when the transaction commits
    _wait(lambda: _fresh(job_id).attempts >= 1 and _fresh(job_id).status == "queued", workers, "a failed first attempt")
    job = _fresh(job_id)
    assert "did not take the message" in job.error
    handler = _Collect()
    controller = Controller(handler, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        _wait(lambda: _fresh(job_id).status == "done", workers, "the mail to be sent", timeout=30)
        time.sleep(1.5)  # nothing else arrives
    finally:
        controller.stop()
    assert len(handler.messages) == 1
    assert handler.messages[0].rcpt_tos == ["someone@example.org"]
    assert b"A message through the queue." in handler.messages[0].content
    job = _fresh(job_id)
    assert "someone@example.org" not in job.params_json and "through the queue" not in job.params_json


def test_a_mail_is_not_sent_when_the_transaction_rolls_back(app, workers):
    from consultations.mail import send_mail

    app.config["MESA_MAIL_BACKEND"] = "console"
    with app.test_request_context("/"):
        send_mail("someone@example.org", "Hello", "Never sent.")
        db.session.rollback()
    assert db.session.scalar(select(db.func.count()).select_from(Job)) == 0


def test_a_mail_whose_worker_died_is_not_sent_twice(app, workers):
    job = services.create("mail", {"to": "a@example.org", "subject": "s", "body": "b"})
    job.status, job.attempts = "running", 1
    job.heartbeat_at = utcnow() - timedelta(minutes=5)
    db.session.commit()
    assert services.recover_stale() == {"requeued": 0, "failed": 1, "redispatched": 0}
    assert "not sent again" in _fresh(job.id).error


# -- cleanup -----------------------------------------------------------------------------
def test_cleanup_deletes_expired_jobs_and_their_files(app, workers, make_user):
    owner = make_user()
    old = services.create("test.steps", {"steps": 0, "sleep": 0}, owner=owner)
    kept = services.create("test.steps", {"steps": 0, "sleep": 0}, owner=owner)
    db.session.commit()
    for job in (old, kept):
        services.execute(job.id)
    old, kept = _fresh(old.id), _fresh(kept.id)
    old_path = services.path_of(old)
    assert old_path is not None
    db.session.execute(update(Job).where(Job.id == old.id).values(expires_at=utcnow() - timedelta(seconds=1)))
    db.session.commit()
    assert services.cleanup() == 1
    assert not old_path.exists()
    assert _fresh(old.id) is None and services.path_of(_fresh(kept.id)) is not None


# -- "My downloads" in the navigation ------------------------------------------------------
def test_my_downloads_is_in_the_navigation_of_signed_in_people(app, client, make_user):
    nav = '<a href="/downloads"'
    assert nav not in _get(client, "/").get_data(as_text=True)
    _login(client, make_user())
    home = _get(client, "/").get_data(as_text=True)
    header = home.split("</nav>", 1)[0]
    assert nav in header and "My downloads" in header
    # In the person's language, and marked as the current page on the list itself.
    assert "Mis descargas" in _get(client, "/?lang=es").get_data(as_text=True).split("</nav>", 1)[0]
    listing = _get(client, "/downloads").get_data(as_text=True).split("</nav>", 1)[0]
    assert '<a href="/downloads" aria-current="page">' in listing


# -- "e-mail me a link when it is ready" -----------------------------------------------------
def test_an_email_with_a_link_to_the_page_is_sent_once_in_the_persons_language(app, client, workers, summary):
    from consultations.jobs import notify
    from consultations.mail import outbox

    consultation, organiser = summary
    organiser.locale = "es"
    db.session.commit()
    app.config.update(MESA_MAIL_BACKEND="memory", MESA_BASE_URL="https://mesa.example.org")
    box = outbox()
    box.clear()
    _login(client, organiser)  # no worker started: the job waits
    response = _get(client, f"/consultations/{consultation.id}/summary/download.docx?lang=en")
    assert response.status_code == 303
    job_id = int(response.headers["Location"].rsplit("/", 1)[1])
    page = _get(client, f"/downloads/{job_id}").get_data(as_text=True)
    assert 'name="notify"' in page and f'action="/downloads/{job_id}/notify"' in page
    assert _get(client, f"/downloads/{job_id}/notify").status_code == 405  # asking is a POST
    response = client.post(f"/downloads/{job_id}/notify", data={"notify": "y"})
    assert response.status_code == 303
    assert _fresh(job_id).params["notify"] == [organiser.id]
    assert '<input checked id="notify" name="notify" type="checkbox"' in _get(client, f"/downloads/{job_id}").get_data(as_text=True)
    assert box == [] and _fresh(job_id).status == "queued"  # (and the test's reading transaction ended)
    assert services.execute(job_id) == "done"
    assert len(box) == 1
    mail = box[0]
    assert mail.to == organiser.email
    # In the account's language (the file itself was asked for in English).
    assert "Word del resumen de «Jobs consultation»" in mail.subject + mail.body
    assert f"https://mesa.example.org/downloads/{job_id}\n" in mail.body
    assert f"/downloads/{job_id}/file" not in mail.body  # a link to the page, never the file
    # Never twice: the request is taken when the mail is queued.
    assert "notify" not in _fresh(job_id).params
    assert notify.send_when_finished(job_id) == 0
    assert len(box) == 1
    # Asking once it is finished sends nothing and says so.
    response = client.post(f"/downloads/{job_id}/notify", data={"notify": "y"}, follow_redirects=True)
    assert response.status_code == 200
    assert "notify" not in _fresh(job_id).params and len(box) == 1


def test_unticking_cancels_the_email_and_others_cannot_ask_for_it(app, client, workers, make_user):
    from consultations.mail import outbox

    app.config.update(MESA_MAIL_BACKEND="memory")
    box = outbox()
    box.clear()
    owner = make_user()
    job_id = _submit("test.steps", {"steps": 0, "sleep": 0}, owner=owner)
    _login(client, owner)
    client.post(f"/downloads/{job_id}/notify", data={"notify": "y"})
    assert _fresh(job_id).params["notify"] == [owner.id]
    client.post(f"/downloads/{job_id}/notify", data={})
    assert "notify" not in _fresh(job_id).params
    other = _login(app.test_client(), make_user())
    assert other.post(f"/downloads/{job_id}/notify", data={"notify": "y"}).status_code == 404
    assert app.test_client().post(f"/downloads/{job_id}/notify", data={"notify": "y"}).status_code == 404
    assert "notify" not in _fresh(job_id).params
    assert services.execute(job_id) == "done"
    assert box == []


def test_a_failed_job_mails_its_page_too_when_asked(app, client, workers, make_user, tmp_path):
    from consultations.mail import outbox

    app.config.update(MESA_MAIL_BACKEND="memory", MESA_BASE_URL="https://mesa.example.org/")
    box = outbox()
    box.clear()
    owner = make_user()
    job_id = _submit("test.fails", {"marker": str(tmp_path / "absent")}, owner=owner)
    _login(client, owner)
    owner_id = owner.id  # read now: reloading it later would open a transaction of the test's
    client.post(f"/downloads/{job_id}/notify", data={"notify": "y"})
    assert _fresh(job_id).params["notify"] == [owner_id]
    assert services.execute(job_id) == "failed"
    assert len(box) == 1
    assert "could not be made" in box[0].subject and "The test job failed on purpose." in box[0].body
    assert box[0].body.rstrip().endswith(f"\nhttps://mesa.example.org/downloads/{job_id}")  # no "//" either


def test_the_notify_form_needs_the_csrf_token(csrf_app, make_user, tmp_path):
    owner = make_user()
    job = services.create("test.steps", {"steps": 0, "sleep": 0}, owner=owner)
    db.session.commit()
    client = _login(csrf_app.test_client(), owner)
    assert client.post(f"/downloads/{job.id}/notify", data={"notify": "y"}).status_code == 400
    assert "notify" not in _fresh(job.id).params


# -- a failed job's page ---------------------------------------------------------------------
def _crashes(job, progress):
    raise RuntimeError("psycopg.OperationalError at /srv/mesa/secret.py line 12")


def _refuses(job, progress):
    raise services.JobError("No <b>bold</b> reason.")


services.register("test.crashes", services.Kind(run=_crashes, may_see=lambda job, user: True, label=lambda job: "Crashes"))
services.register("test.refuses", services.Kind(run=_refuses, may_see=lambda job, user: True, label=lambda job: "Refuses"))


def test_a_failed_jobs_page_says_why_clearly_and_keeps_the_technical_text_in_the_log(app, client, make_user, caplog):
    owner = make_user()
    job = services.create("test.crashes", {}, owner=owner)
    db.session.commit()
    with caplog.at_level("ERROR", logger="consultations.jobs.services"):
        assert services.execute(job.id) == "failed"
    assert "secret.py" in caplog.text  # the technical text: in the log
    assert "secret.py" not in _fresh(job.id).error
    _login(client, owner)
    page = _get(client, f"/downloads/{job.id}").get_data(as_text=True)
    assert ("The file could not be made: an unexpected error in the program. Try again; if it fails again, "
            f"tell the platform’s administrators (reference #{job.id}).") in page
    assert "secret.py" not in page and "OperationalError" not in page
    status = _get(client, f"/downloads/{job.id}/status.json").get_json()
    assert status["error"] == "an unexpected error in the program"
    # A job's own reason is shown (escaped), with the same advice.
    refused = services.create("test.refuses", {}, owner=owner)
    db.session.commit()
    services.execute(refused.id)
    page = _get(client, f"/downloads/{refused.id}").get_data(as_text=True)
    assert ("The file could not be made: No &lt;b&gt;bold&lt;/b&gt; reason. Try again; if it fails again, "
            f"tell the platform’s administrators (reference #{refused.id}).") in page
    assert "<b>bold</b>" not in page
