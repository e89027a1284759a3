"""Database set-up: SQLite pragmas, and the refusal to serve an unmigrated schema."""
from __future__ import annotations

import logging

from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from flask import Flask, current_app, has_request_context, render_template, request
from sqlalchemy import event
from sqlalchemy.engine import Engine

from .extensions import db

log = logging.getLogger(__name__)


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
    immediate = has_request_context() and request.method not in ("GET", "HEAD", "OPTIONS")
    conn.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")


def schema_heads(app: Flask) -> tuple[set[str], set[str]]:
    """(revisions the database is at, head revisions of the migrations)."""
    cfg = app.extensions["migrate"].migrate.get_config()
    script = ScriptDirectory.from_config(cfg)
    with db.engine.connect() as conn:
        current = set(MigrationContext.configure(conn).get_current_heads())
    return current, set(script.get_heads())


def init_app(app: Flask) -> None:
    state = {"checked": False}

    @app.before_request
    def _refuse_unmigrated_database():
        if state["checked"] or not current_app.config.get("MESA_CHECK_MIGRATIONS", True):
            return None
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
