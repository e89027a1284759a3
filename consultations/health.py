"""Health: can the app reach its database and its rate-limit store?

Used by ``/healthz`` (JSON, answered within a second whatever hangs) and at start-up
(a clear line in the log when something is unreachable). Each check runs in a thread
with a deadline, because neither a DNS lookup nor psycopg's connect timeout (at least
2 s) can be bounded below a second otherwise. The details (addresses) go to the log;
``/healthz`` is public, so it gives a plain reason without them.
"""
from __future__ import annotations

import logging
import threading
import time
from urllib.parse import urlsplit

from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from flask import Flask

from .database import safe_url
from .extensions import db, limiter

log = logging.getLogger(__name__)

# /healthz gives every check this long, in parallel, so that it answers within a second.
HEALTHZ_SECONDS = 0.8
# At start-up a worker may wait a little longer for the database before saying so.
STARTUP_SECONDS = 3.0

OK, DEGRADED, ERROR = "ok", "degraded", "error"

_running: dict[str, threading.Thread] = {}
_running_lock = threading.Lock()


class _Check:
    """A check running in a daemon thread; ``wait`` gives (error or None) by a deadline."""

    def __init__(self, key: str, fn):
        self.error: str | None = None
        self.busy = False
        with _running_lock:
            previous = _running.get(key)
            if previous is not None and previous.is_alive():
                # The last check of this kind still hangs: do not pile up threads.
                self.busy = True
                self.thread = previous
                return
            self.thread = threading.Thread(target=self._run, args=(fn,), daemon=True, name=f"health-{key}")
            _running[key] = self.thread
        self.thread.start()

    def _run(self, fn) -> None:
        try:
            self.error = fn()
        except Exception as exc:  # noqa: BLE001  (any failure is the answer)
            self.error = _first_line(getattr(exc, "orig", None) or exc) or type(exc).__name__

    def wait(self, deadline: float, seconds: float) -> str | None:
        self.thread.join(max(0.0, deadline - time.monotonic()))
        if self.busy or self.thread.is_alive():
            return f"no answer within {seconds:g} s"
        return self.error


def _first_line(exc) -> str:
    text = str(exc).strip()
    return text.splitlines()[0][:300] if text else ""


def _plain(reason: str) -> str:
    """The end of a driver's message ("Connection refused"), without host or port."""
    if reason.startswith(("no answer within", "schema")):
        return reason
    return reason.rsplit(": ", 1)[-1].strip() or reason


def store_location(uri: str) -> str:
    """``redis://host:port`` for logs: no user name, password or path."""
    parts = urlsplit(uri)
    if parts.scheme == "memory":
        return "memory://"
    try:
        port = parts.port
    except ValueError:
        port = None
    host = parts.hostname or ""
    return f"{parts.scheme}://{host}" + (f":{port}" if port else "")


# -- the checks -------------------------------------------------------------------

def _schema_heads(app: Flask) -> set[str]:
    heads = app.extensions.get("mesa_schema_heads")
    if heads is None:
        with app.app_context():
            cfg = app.extensions["migrate"].migrate.get_config()
            heads = set(ScriptDirectory.from_config(cfg).get_heads())
        app.extensions["mesa_schema_heads"] = heads
    return heads


def _database_check(app: Flask, *, schema: bool):
    with app.app_context():
        engine = db.engine
    heads = _schema_heads(app) if schema and app.config.get("MESA_CHECK_MIGRATIONS", True) else None

    def check() -> str | None:
        with engine.connect() as conn:
            conn.exec_driver_sql("SELECT 1")
            if heads is not None and set(MigrationContext.configure(conn).get_current_heads()) != heads:
                return "schema not at the latest migration (run: flask --app app db upgrade)"
        return None

    return engine, check


def _limiter_check(app: Flask):
    """(location, check) for the rate-limit store, or (description, None) when there is
    nothing to reach (throttling off, or counters in the worker's memory)."""
    uri = app.config.get("RATELIMIT_STORAGE_URI") or "memory://"
    if not app.config.get("RATELIMIT_ENABLED", True) or not limiter.enabled:
        return "off", None
    if uri.startswith("memory:"):
        return "memory://", None
    storage = limiter.storage

    def check() -> str | None:
        connection = getattr(storage, "get_connection", None)
        if connection is None:
            return None if storage.check() else "unreachable"
        return None if connection().ping() else "unreachable"

    return store_location(uri), check


def report(app: Flask) -> tuple[dict, int]:
    """The /healthz answer and its status code: 503 when the database is unusable,
    200 with "degraded" when only the rate-limit store is down."""
    start = time.monotonic()
    deadline = start + HEALTHZ_SECONDS
    engine, db_fn = _database_check(app, schema=True)
    location, limiter_fn = _limiter_check(app)
    db_check = _Check("database", db_fn)
    limiter_check = _Check("limiter", limiter_fn) if limiter_fn else None

    body: dict = {"status": OK}
    db_error = db_check.wait(deadline, HEALTHZ_SECONDS)
    if db_error:
        body["database"] = {"status": ERROR, "reason": _plain(db_error)}
        log.error("Health check: database %s unusable: %s", safe_url(engine.url), db_error)
    else:
        body["database"] = {"status": OK}
        if app.config.get("MESA_CHECK_MIGRATIONS", True):
            app.extensions.setdefault("mesa_schema", {})["checked"] = True  # pages need not check again

    if limiter_check is None:
        store = {"status": OK, "store": location}
        if location == "memory://":
            store["note"] = "counters in each worker process's memory"
    else:
        store_error = limiter_check.wait(deadline, HEALTHZ_SECONDS)
        if store_error:
            store = {
                "status": DEGRADED,
                "store": location.split("://", 1)[0],
                "reason": (
                    f"{'unreachable' if not store_error.startswith('no answer') else store_error}; "
                    "each worker counts in its own memory until it is back"
                ),
            }
            log.warning("Health check: rate-limit store %s unreachable: %s", location, store_error)
        else:
            store = {"status": OK, "store": location.split("://", 1)[0]}
    body["limiter_store"] = store

    if db_error:
        body["status"] = ERROR
    elif store["status"] != OK:
        body["status"] = DEGRADED
    body["seconds"] = round(time.monotonic() - start, 3)
    return body, 503 if db_error else 200


def check_at_start(app: Flask) -> None:
    """Say in the log, at start-up, when the database or the rate-limit store cannot be
    reached. The app still starts: pages answer 503 "database unavailable" until the
    database is back, and throttling counts in memory until the store is back."""
    deadline = time.monotonic() + STARTUP_SECONDS
    engine, db_fn = _database_check(app, schema=False)
    location, limiter_fn = _limiter_check(app)
    db_check = _Check("database", db_fn)
    limiter_check = _Check("limiter", limiter_fn) if limiter_fn else None
    error = db_check.wait(deadline, STARTUP_SECONDS)
    if error:
        log.error(
            "DATABASE UNREACHABLE at %s: %s. Every page answers 503 (database unavailable) "
            "until it is back; /healthz says what is wrong.",
            safe_url(engine.url), error,
        )
    else:
        log.info("Database reachable at %s", safe_url(engine.url))
    # Keep no pooled connection from start-up: with gunicorn --preload it would be shared
    # by every forked worker.
    engine.dispose()
    if limiter_check is not None:
        error = limiter_check.wait(deadline, STARTUP_SECONDS)
        if error:
            log.warning(
                "Rate-limit store %s unreachable (%s): each worker counts failed logins in its "
                "own memory until it is back, so limits apply per worker.",
                location, error,
            )
