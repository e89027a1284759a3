"""Alembic environment for Mesa (run through Flask-Migrate: ``flask db ...``).

SQLite: the app's connections enforce foreign keys (``PRAGMA foreign_keys=ON``, see
``consultations/database.py``). A migration run must not: Alembic's batch mode rebuilds
a table (create a copy, copy the rows, DROP the original, rename the copy), and with
foreign keys on, that DROP fires every ON DELETE CASCADE / SET NULL pointing at the
table, silently emptying or unlinking its children. So on SQLite the run

- switches foreign keys off on its connection (outside any transaction, where the
  pragma takes effect),
- runs all the migrations in ONE transaction (SQLite's DDL is transactional),
- runs ``PRAGMA foreign_key_check`` before committing and rolls everything back if a
  row points at nothing,
- switches foreign keys back on before the connection returns to the pool (or discards
  the connection if that fails), so the app never gets a connection without them.
"""
import logging
from logging.config import fileConfig

from alembic import context
from flask import current_app

config = context.config
# Keep the application's loggers alive when migrations run inside a process.
fileConfig(config.config_file_name, disable_existing_loggers=False)
logger = logging.getLogger("alembic.env")

target_db = current_app.extensions["migrate"].db
engine = target_db.engine
config.set_main_option(
    "sqlalchemy.url", engine.url.render_as_string(hide_password=False).replace("%", "%%")
)


def _sqlite_foreign_keys(connection, on: bool) -> bool:
    """Set PRAGMA foreign_keys on the DBAPI connection; True if it took effect.

    The pragma is a no-op inside a transaction, and SQLAlchemy's "begin" (which
    ``consultations.database`` turns into a real BEGIN) would open one: go below it.
    """
    raw = connection.connection.driver_connection
    if raw.in_transaction:
        return False
    raw.execute(f"PRAGMA foreign_keys={'ON' if on else 'OFF'}")
    return raw.execute("PRAGMA foreign_keys").fetchone()[0] == int(on)


def _check_foreign_keys(connection) -> None:
    """Fail the run (and so roll it back) if any row points at nothing."""
    problems = connection.exec_driver_sql("PRAGMA foreign_key_check").fetchall()
    if problems:
        listed = "; ".join(f"{table} rowid {rowid} -> {parent}" for table, rowid, parent, _ in problems[:20])
        raise RuntimeError(
            f"Migration aborted and rolled back: {len(problems)} row(s) would violate a "
            f"foreign key after it ({listed})."
        )


def run_migrations_offline():
    sqlite = config.get_main_option("sqlalchemy.url").startswith("sqlite")
    context.configure(
        url=config.get_main_option("sqlalchemy.url"),
        target_metadata=target_db.metadata,
        literal_binds=True,
        render_as_batch=True,
        transactional_ddl=True if sqlite else None,
    )
    if sqlite:  # the same protection in the generated script
        context.execute("PRAGMA foreign_keys=OFF")
    with context.begin_transaction():
        context.run_migrations()
        if sqlite:
            context.execute("PRAGMA foreign_key_check")
    if sqlite:
        context.execute("PRAGMA foreign_keys=ON")


def run_migrations_online():
    def process_revision_directives(context, revision, directives):
        # No empty migration when the schema has not changed.
        if getattr(config.cmd_opts, "autogenerate", False):
            script = directives[0]
            if script.upgrade_ops.is_empty():
                directives[:] = []
                logger.info("No changes in schema detected.")

    conf_args = dict(current_app.extensions["migrate"].configure_args)
    conf_args.setdefault("process_revision_directives", process_revision_directives)

    with engine.connect() as connection:
        if connection.dialect.name != "sqlite":
            context.configure(connection=connection, target_metadata=target_db.metadata, **conf_args)
            with context.begin_transaction():
                context.run_migrations()
            return
        if not _sqlite_foreign_keys(connection, on=False):
            raise RuntimeError("Could not switch SQLite foreign keys off for the migration run.")
        try:
            conf_args["transactional_ddl"] = True  # one transaction for the whole run
            context.configure(connection=connection, target_metadata=target_db.metadata, **conf_args)
            with context.begin_transaction():
                context.run_migrations()
                _check_foreign_keys(connection)
        finally:
            if connection.in_transaction():
                connection.rollback()
            if not _sqlite_foreign_keys(connection, on=True):
                logger.warning("Foreign keys could not be switched back on: discarding the connection.")
                connection.invalidate()


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
