"""Failures that fail safe, through a real server: gunicorn started here on a free
loopback port, with real worker processes, real Redis on 127.0.0.1:6379 and real logs.

- Redis unreachable: logins, registration and password resets keep working (counters
  in memory, a warning in the log) and /healthz says the limiter store is degraded.
- Several workers: in-memory counters are per worker (a loud warning at start); with the
  documented production command (Redis) the first 429 comes exactly at the limit.
- SQLite: concurrent logins do not queue on the write lock ("database is locked").
- PostgreSQL unreachable: start-up says so, pages are a clear 503, /healthz answers 503
  within a second.
"""
from __future__ import annotations

import http.client
import json
import os
import re
import socket
import subprocess
import sys
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from urllib.parse import urlencode

import pytest

from consultations import create_app
from consultations.extensions import db

from .conftest import PASSWORD

ROOT = Path(__file__).resolve().parent.parent
GUNICORN = Path(sys.executable).parent / "gunicorn"


def _redis_available() -> bool:
    try:
        with socket.create_connection(("127.0.0.1", 6379), timeout=0.5):
            return True
    except OSError:
        return False


needs_redis = pytest.mark.skipif(not _redis_available(), reason="no Redis on 127.0.0.1:6379")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class BlackHole:
    """A TCP server on 127.0.0.1 that accepts connections and never answers: what a
    database or Redis behind a dead network path, or a stuck one, looks like."""

    def __init__(self):
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(64)
        self.port = self.sock.getsockname()[1]
        self.accepted: list[socket.socket] = []
        self.thread = threading.Thread(target=self._accept, daemon=True)
        self.thread.start()

    def _accept(self):
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            self.accepted.append(conn)

    def close(self):
        self.sock.close()
        for conn in self.accepted:
            conn.close()


@pytest.fixture
def unreachable_port(request):
    """A port where nothing answers: closed (refused at once), or a black hole (hangs)."""
    if request.param == "closed":
        yield _free_port()
    else:
        hole = BlackHole()
        yield hole.port
        hole.close()


class Server:
    """``gunicorn -w N app:app`` from the project folder (so gunicorn.conf.py applies)."""

    def __init__(self, tmp_path: Path, workers: int, **env: str):
        self.port = _free_port()
        clean = {k: v for k, v in os.environ.items() if not k.startswith("MESA_") and k != "DATABASE_URL"}
        self.env = {
            **clean,
            "MESA_INSTANCE_PATH": str(tmp_path),
            "SECRET_KEY": "failsafe-test-secret",
            "MESA_MAIL_BACKEND": "console",
            **env,
        }
        self.log_path = tmp_path / f"gunicorn-{self.port}.log"
        self.log_file = self.log_path.open("w")
        self.process = subprocess.Popen(
            [str(GUNICORN), "-w", str(workers), "-b", f"127.0.0.1:{self.port}", "--timeout", "60", "app:app"],
            cwd=ROOT, env=self.env, stdout=self.log_file, stderr=subprocess.STDOUT,
        )
        self.workers = workers
        self._wait_until_serving()

    def _wait_until_serving(self, seconds: float = 40):
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            assert self.process.poll() is None, self.log()
            booted = self.log().count("Booting worker")
            if booted >= self.workers:
                try:
                    self.request("GET", "/healthz", timeout=10)
                    return
                except OSError:
                    pass
            time.sleep(0.2)
        raise AssertionError("gunicorn did not start:\n" + self.log())

    def request(self, method: str, path: str, body: dict | None = None, cookie: str | None = None, timeout=60):
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=timeout)
        try:
            headers = {}
            data = None
            if body is not None:
                data = urlencode(body)
                headers["Content-Type"] = "application/x-www-form-urlencoded"
            if cookie:
                headers["Cookie"] = cookie
            conn.request(method, path, body=data, headers=headers)
            response = conn.getresponse()
            text = response.read().decode("utf-8", "replace")
            set_cookie = response.getheader("Set-Cookie")
            return response.status, text, set_cookie.split(";", 1)[0] if set_cookie else cookie
        finally:
            conn.close()

    def form(self, path: str, fields: dict, cookie: str | None = None):
        """GET the form (its CSRF token and session cookie), then POST it."""
        status, page, cookie = self.request("GET", path, cookie=cookie)
        assert status == 200, page
        token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)
        return self.request("POST", path, {"csrf_token": token, **fields}, cookie=cookie)

    def log(self) -> str:
        self.log_file.flush()
        return self.log_path.read_text()

    def stop(self) -> str:
        if self.log_file.closed:
            return self.log_path.read_text()
        self.process.terminate()
        try:
            self.process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(timeout=10)
        self.log_file.close()
        return self.log_path.read_text()


@pytest.fixture
def serve(tmp_path):
    servers: list[Server] = []

    def start(workers: int = 1, **env: str) -> Server:
        server = Server(tmp_path, workers, **env)
        servers.append(server)
        return server

    yield start
    for server in servers:
        server.stop()


def _sqlite_database(path: Path, users: int = 1, password: str = PASSWORD) -> tuple[str, list[str]]:
    """A migrated SQLite file with confirmed accounts that share one real (scrypt) hash."""
    from flask_migrate import upgrade
    from werkzeug.security import generate_password_hash

    from consultations.accounts.models import User
    from consultations.timeutil import utcnow

    url = "sqlite:///" + str(path)
    app = create_app({"TESTING": True, "SQLALCHEMY_DATABASE_URI": url, "SECRET_KEY": "x"})
    emails = [f"person{n}@example.org" for n in range(users)]
    with app.app_context():
        upgrade()
        hashed = generate_password_hash(password)
        db.session.add_all(
            User(email=e, display_name=e.split("@")[0], password_hash=hashed, email_confirmed_at=utcnow())
            for e in emails
        )
        db.session.commit()
        db.session.remove()
        db.engine.dispose()
    return url, emails


@pytest.fixture
def accounts(app, database_url):
    """The suite's database (SQLite, or PostgreSQL with MESA_TEST_DATABASE_URL), with
    confirmed accounts: ``accounts(n)`` gives (URL for the server, their e-mails)."""
    from werkzeug.security import generate_password_hash

    from consultations.accounts.models import User
    from consultations.timeutil import utcnow

    def make(n: int = 1):
        emails = [f"{uuid.uuid4().hex[:10]}@example.org" for _ in range(n)]
        hashed = generate_password_hash(PASSWORD, method="pbkdf2:sha256:1000")
        db.session.add_all(
            User(email=e, display_name=e.split("@")[0], password_hash=hashed, email_confirmed_at=utcnow())
            for e in emails
        )
        db.session.commit()
        return database_url, emails

    return make


def _healthz(server: Server):
    start = time.monotonic()
    status, text, _ = server.request("GET", "/healthz", timeout=10)
    return status, json.loads(text), time.monotonic() - start


# -- Redis unreachable ------------------------------------------------------------------

@pytest.mark.parametrize("unreachable_port", ["closed", "hanging"], indirect=True)
def test_logins_keep_working_when_redis_is_unreachable(accounts, serve, unreachable_port):
    url, (email,) = accounts(1)
    server = serve(
        workers=1,
        DATABASE_URL=url,
        MESA_RATELIMIT_STORAGE_URI=f"redis://127.0.0.1:{unreachable_port}",
        MESA_LIMIT_LOGIN_ACCOUNT="3 per minute",
    )
    start = time.monotonic()
    status, page, _ = server.form("/login", {"email": email, "password": PASSWORD})
    assert status == 302, page
    assert time.monotonic() - start < 5
    # Registration and password reset too (they were 500s).
    status, page, _ = server.form("/register", {
        "email": "new@example.org", "display_name": "New person",
        "password": "a long new secret", "confirm": "a long new secret",
        "acts_as": "individual", "individual_category": "other", "organisation_category": "ngo",
    })
    assert status == 302, page
    status, page, _ = server.form("/password/forgot", {"email": email})
    assert status == 302, page
    # Still throttled, in the worker's memory: the 4th failure is refused.
    statuses = [server.form("/login", {"email": email, "password": "wrong password!"})[0] for _ in range(4)]
    assert statuses == [422, 422, 422, 429]

    status, health, seconds = _healthz(server)
    assert status == 200
    assert health["status"] == "degraded"
    assert health["database"] == {"status": "ok"}
    assert health["limiter_store"]["status"] == "degraded"
    assert "memory" in health["limiter_store"]["reason"]
    assert seconds < 1
    log = server.stop()
    assert f"Rate-limit store redis://127.0.0.1:{unreachable_port} unreachable" in log  # at start
    assert "falling back to in-memory storage" in log  # at the first request that needed it
    assert "Traceback" not in log


# -- several workers ----------------------------------------------------------------------

def test_several_workers_with_in_memory_counters_warn_at_start(serve, tmp_path):
    url, _ = _sqlite_database(tmp_path / "mesa.sqlite3")
    server = serve(workers=2, DATABASE_URL=url, MESA_LIMIT_LOGIN_ACCOUNT="10 per 15 minutes")
    log = server.log()
    assert "THROTTLING LIMITS ARE PER WORKER" in log
    assert "lets up to 20 through" in log
    assert "MESA_RATELIMIT_STORAGE_URI=redis://" in log


@needs_redis
def test_documented_production_command_enforces_the_limits_exactly(accounts, serve):
    """README "Production": gunicorn -w N with MESA_RATELIMIT_STORAGE_URI=redis://...:
    the first 429 comes right after the configured number of failures, per account and
    per address, whichever worker answers."""
    import redis

    url, emails = accounts(3)
    prefix = f"mesa-test-{uuid.uuid4().hex}"
    server = serve(
        workers=2,
        DATABASE_URL=url,
        MESA_RATELIMIT_STORAGE_URI="redis://127.0.0.1:6379",
        MESA_RATELIMIT_KEY_PREFIX=prefix,
        MESA_LIMIT_LOGIN_ACCOUNT="4 per 15 minutes",
        MESA_LIMIT_LOGIN_ADDRESS="7 per 15 minutes",
    )
    try:
        assert "THROTTLING LIMITS ARE PER WORKER" not in server.log()
        first, second, third = emails
        attempts = [server.form("/login", {"email": first, "password": "wrong password!"})[0] for _ in range(6)]
        assert attempts == [422] * 4 + [429] * 2
        # The address has 4 failures counted; 3 more for another account, then 429.
        attempts = [server.form("/login", {"email": second, "password": "wrong password!"})[0] for _ in range(4)]
        assert attempts == [422] * 3 + [429]
        assert server.form("/login", {"email": third, "password": PASSWORD})[0] == 429
        _, health, _ = _healthz(server)
        assert health["limiter_store"] == {"status": "ok", "store": "redis"}
    finally:
        server.stop()
        client = redis.Redis(host="127.0.0.1", port=6379)
        keys = list(client.scan_iter(f"*{prefix}*"))
        if keys:
            client.delete(*keys)
        client.close()


# -- SQLite: concurrent logins -----------------------------------------------------------

@pytest.mark.real_password_hashing
def test_a_hundred_concurrent_logins_on_four_workers_sqlite(serve, tmp_path):
    url, emails = _sqlite_database(tmp_path / "mesa.sqlite3", users=100)
    server = serve(workers=4, DATABASE_URL=url, MESA_RATELIMIT_ENABLED="0")

    def open_page(email):  # each person has the log-in page open (token and cookie)
        status, page, cookie = server.request("GET", "/login")
        assert status == 200
        return email, re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1), cookie

    with ThreadPoolExecutor(max_workers=8) as pool:
        pages = list(pool.map(open_page, emails))

    def log_in(args):
        email, token, cookie = args
        start = time.monotonic()
        status, page, _ = server.request(
            "POST", "/login", {"csrf_token": token, "email": email, "password": PASSWORD}, cookie=cookie
        )
        return status, time.monotonic() - start, page

    start = time.monotonic()
    with ThreadPoolExecutor(max_workers=100) as pool:
        results = list(pool.map(log_in, pages))
    elapsed = time.monotonic() - start
    failures = [(status, page[:300]) for status, _, page in results if status != 302]
    assert failures == [], f"{len(failures)} of 100 logins failed"
    assert elapsed < 45
    log = server.stop()
    assert "database is locked" not in log


# -- PostgreSQL unreachable ----------------------------------------------------------------

@pytest.mark.parametrize("unreachable_port", ["closed", "hanging"], indirect=True)
def test_unreachable_postgresql_is_said_at_start_and_answered_with_503(serve, unreachable_port):
    password = "s3cret-pw-" + uuid.uuid4().hex[:8]
    server = serve(workers=1, DATABASE_URL=f"postgresql://mesa:{password}@127.0.0.1:{unreachable_port}/mesa")
    log = server.log()
    assert "DATABASE UNREACHABLE" in log
    assert f"@127.0.0.1:{unreachable_port}/mesa" in log

    for _ in range(3):
        status, health, seconds = _healthz(server)
        assert status == 503
        assert seconds < 1
        assert health["status"] == "error"
        assert health["database"]["status"] == "error"
        assert health["database"]["reason"]
        assert str(unreachable_port) not in json.dumps(health)  # /healthz is public

    status, page, _ = server.request("GET", "/", timeout=30)
    assert status == 503
    assert "The database is unavailable" in page
    log = server.stop()
    assert password not in log


class Forwarder:
    """Forwards 127.0.0.1:<port> to PostgreSQL on 127.0.0.1: the database "coming back"."""

    def __init__(self, port: int, target: tuple[str, int]):
        self.target = target
        self.sock = socket.socket()
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind(("127.0.0.1", port))
        self.sock.listen(64)
        self.conns: list[socket.socket] = []
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self):
        while True:
            try:
                client, _ = self.sock.accept()
            except OSError:
                return
            upstream = socket.create_connection(self.target)
            self.conns += [client, upstream]
            for a, b in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pump, args=(a, b), daemon=True).start()

    @staticmethod
    def _pump(a, b):
        try:
            while data := a.recv(65536):
                b.sendall(data)
        except OSError:
            pass
        finally:
            for s in (a, b):
                try:
                    s.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass

    def close(self):
        self.sock.close()
        for conn in self.conns:
            conn.close()


def test_pages_come_back_with_the_database_without_a_restart(app, database_url, serve):
    from sqlalchemy.engine import make_url

    url = make_url(database_url)
    if url.get_backend_name() != "postgresql":
        pytest.skip("needs PostgreSQL (MESA_TEST_DATABASE_URL)")
    port = _free_port()
    server = serve(workers=1, DATABASE_URL=url.set(host="127.0.0.1", port=port).render_as_string(hide_password=False))
    assert "DATABASE UNREACHABLE" in server.log()
    assert server.request("GET", "/about")[0] == 503
    assert _healthz(server)[0] == 503
    forwarder = Forwarder(port, (url.host or "127.0.0.1", url.port or 5432))
    try:
        assert server.request("GET", "/about")[0] == 200
        status, health, _ = _healthz(server)
        assert (status, health["status"], health["database"]) == (200, "ok", {"status": "ok"})
    finally:
        server.stop()
        forwarder.close()


# -- in the test process -------------------------------------------------------------------

def test_healthz_reports_each_part(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "no-store"
    body = response.get_json()
    assert body["status"] == "ok"
    assert body["database"] == {"status": "ok"}
    assert body["limiter_store"]["status"] == "ok"


def test_database_unavailable_page_keeps_what_was_typed():
    """A real unreachable PostgreSQL: a clear 503 page (not a 500) that gives back the text."""
    port = _free_port()
    app = create_app({
        "TESTING": True, "WTF_CSRF_ENABLED": False, "SECRET_KEY": "x",
        "SQLALCHEMY_DATABASE_URI": f"postgresql+psycopg://mesa:pw@127.0.0.1:{port}/mesa",
    })
    response = app.test_client().post("/register", data={
        "email": "someone@example.org", "display_name": "Fatima, from the Ceuta roundtable",
        "password": "a long new secret", "confirm": "a long new secret",
    })
    assert response.status_code == 503
    assert response.headers["Retry-After"]
    page = response.get_data(as_text=True)
    assert "The database is unavailable" in page
    assert "Fatima, from the Ceuta roundtable" in page
    assert "a long new secret" not in page  # passwords are not shown back
    with app.app_context():
        db.engine.dispose()


def test_authenticate_holds_no_write_lock(app, make_user):
    """On SQLite a POST takes the write lock at BEGIN; the password check must not run
    inside it, or concurrent logins queue until "database is locked"."""
    import sqlite3

    from consultations.accounts import services

    if db.engine.dialect.name != "sqlite":
        pytest.skip("SQLite's write lock")
    user = make_user()
    path = db.engine.url.database
    with app.test_request_context("/login", method="POST"):
        assert services.authenticate(user.email, PASSWORD).id == user.id
        assert services.authenticate(user.email, "wrong password!") is None
        other = sqlite3.connect(path, timeout=0, isolation_level=None)
        try:
            other.execute("BEGIN IMMEDIATE")  # "database is locked" if the login held the lock
            other.execute("ROLLBACK")
        finally:
            other.close()
        db.session.rollback()


def test_expired_form_page_does_not_show_the_repeated_password(csrf_app):
    """The page that gives back an expired form's text left out ``password`` but showed
    its repetition (the field ``confirm``)."""
    response = csrf_app.test_client().post("/register", data={
        "email": "someone@example.org", "display_name": "Someone from Melilla",
        "password": "my very own secret", "confirm": "my very own secret", "csrf_token": "expired",
    })
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert "Someone from Melilla" in page
    assert "my very own secret" not in page
