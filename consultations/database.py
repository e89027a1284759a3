"""Database set-up: SQLite pragmas, and the refusal to serve an unmigrated schema."""
from __future__ import annotations

import logging
from contextlib import contextmanager

from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from flask import (
    Flask,
    current_app,
    g,
    has_app_context,
    has_request_context,
    render_template,
    request,
)
from sqlalchemy import event
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.exc import OperationalError

from .extensions import db, login_manager

log = logging.getLogger(__name__)

# Seconds PostgreSQL gets to accept a connection, unless the URL says otherwise
# (``?connect_timeout=``); psycopg's own default is 130 s.
CONNECT_TIMEOUT = 5


def safe_url(url) -> str:
    """The database URL for logs and messages: host, port and name, never the password."""
    return make_url(url).render_as_string(hide_password=True)


@event.listens_for(Engine, "do_connect")
def _postgresql_connect_timeout(dialect, conn_rec, cargs, cparams):
    """An unreachable PostgreSQL gives a 503 page after a few seconds, not a request
    that hangs for two minutes."""
    if dialect.name == "postgresql" and "connect_timeout" not in cparams and not any(
        "connect_timeout" in str(arg) for arg in cargs
    ):
        cparams["connect_timeout"] = CONNECT_TIMEOUT


def _is_sqlite(dbapi_connection) -> bool:
    return type(dbapi_connection).__module__.startswith("sqlite3")


@event.listens_for(Engine, "connect")
def _sqlite_pragmas(dbapi_connection, connection_record):
    if not _is_sqlite(dbapi_connection):
        return
    # SQLAlchemy emits BEGIN itself (below), not the sqlite3 module, so that savepoints
    # work and writing requests can take the write lock up front.
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA busy_timeout=10000")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


@event.listens_for(Engine, "begin")
def _sqlite_begin(conn):
    """On SQLite, a request that may write starts with BEGIN IMMEDIATE.

    A deferred transaction that read first and then tries to write fails at once with
    "database is locked" when another writer committed in between (WAL snapshot), and
    the busy timeout cannot help. Taking the write lock at the start of POST requests
    makes concurrent writers queue (up to the busy timeout) instead. Reads stay deferred
    so they never wait for writers.
    """
    if conn.dialect.name != "sqlite":
        return
    immediate = (
        has_request_context()
        and request.method not in ("GET", "HEAD", "OPTIONS")
        and not g.get("_mesa_reads_only", False)
    )
    conn.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")


@contextmanager
def reads_only():
    """A transaction begun inside this block only reads: on SQLite it is deferred even
    in a POST request, so it waits for no writer and holds no write lock (slow work,
    like a password check, may follow while it is open).

    Commit it before writing anything: a deferred transaction that later writes fails
    at once ("database is locked") when another writer went first.
    """
    if not has_app_context():
        yield
        return
    previous = g.get("_mesa_reads_only", False)
    g._mesa_reads_only = True
    try:
        yield
    finally:
        g._mesa_reads_only = previous


def schema_heads(app: Flask) -> tuple[set[str], set[str]]:
    """(revisions the database is at, head revisions of the migrations)."""
    cfg = app.extensions["migrate"].migrate.get_config()
    script = ScriptDirectory.from_config(cfg)
    with db.engine.connect() as conn:
        current = set(MigrationContext.configure(conn).get_current_heads())
    return current, set(script.get_heads())


def kept_form_values() -> list[tuple[str, str]]:
    """What the person typed, to show it back: not the CSRF token, nor any password
    (``password``, ``new_password``, ``current_password`` and its repetition ``confirm``)."""
    try:
        items = list(request.form.items(multi=True))
    except Exception:  # noqa: BLE001  (a body that cannot be read has nothing to give back)
        return []
    return [
        (key, value)
        for key, value in items
        if key not in ("csrf_token", "confirm") and "password" not in key and value.strip()
    ]


def init_app(app: Flask) -> None:
    # Set once the schema was found at the latest migration (here, or by /healthz).
    state = app.extensions.setdefault("mesa_schema", {"checked": False})

    @app.errorhandler(OperationalError)
    def _database_unavailable(exc: OperationalError):
        """The database cannot be reached (or, on SQLite, stayed locked): a clear 503,
        which says so and gives back what the person typed, instead of a generic 500."""
        try:
            db.session.rollback()
        except Exception:  # the connection is gone: nothing to undo
            log.debug("rollback after a database error failed", exc_info=True)
        reason = str(getattr(exc, "orig", exc) or exc).strip().splitlines()[0][:300]
        log.error(
            "Database unavailable (%s) at %s %s: %s",
            safe_url(db.engine.url), request.method, request.path, reason,
        )
        # The page must not need the database: nobody is loaded as logged in.
        g._login_user = login_manager.anonymous_user()
        kept = kept_form_values() if request.method == "POST" else []
        response = app.make_response((render_template("errors/database.html", kept=kept), 503))
        response.headers["Retry-After"] = "30"
        return response

    @app.before_request
    def _refuse_unmigrated_database():
        if state["checked"] or not current_app.config.get("MESA_CHECK_MIGRATIONS", True):
            return None
        if request.endpoint == "main.healthz":
            return None  # /healthz checks the schema itself, and says so as JSON
        current, heads = schema_heads(current_app)
        if current != heads:
            message = (
                "The database schema is not up to date "
                f"(database at {sorted(current) or 'no revision'}, code expects {sorted(heads)}). "
                "Run: flask --app app db upgrade"
            )
            log.error(message)
            return render_template("errors/unmigrated.html", message=message), 503
        state["checked"] = True
        return None
