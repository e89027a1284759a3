"""Database set-up: SQLite pragmas, and the refusal to serve an unmigrated schema."""
from __future__ import annotations

import logging

from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from flask import Flask, current_app, render_template
from sqlalchemy import event
from sqlalchemy.engine import Engine

from .extensions import db

log = logging.getLogger(__name__)


@event.listens_for(Engine, "connect")
def _sqlite_pragmas(dbapi_connection, connection_record):  # pragma: no cover - trivial
    module = type(dbapi_connection).__module__
    if not module.startswith("sqlite3"):
        return
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA busy_timeout=10000")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


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
