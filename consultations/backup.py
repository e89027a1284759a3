"""Consistent database snapshots and their restore (``flask backup`` / ``flask restore``).

- SQLite: the online backup API (``sqlite3.Connection.backup``) copies a consistent
  snapshot while the app keeps writing; the copy is checked with ``integrity_check``.
  Restore copies the other way, page by page, after the app's engine is disposed.
- PostgreSQL: ``pg_dump --format=custom`` (one consistent snapshot, in a single
  transaction) and ``pg_restore --clean --if-exists --single-transaction``. The client
  programs must be installed (Debian: ``postgresql-client``), ideally of the server's
  major version or newer. The password goes through ``PGPASSWORD``, never the command line.
"""
from __future__ import annotations

import os
import shutil
import sqlite3
import subprocess
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy.engine import URL, Engine

SQLITE_MAGIC = b"SQLite format 3\x00"
PG_MAGIC = b"PGDMP"


class BackupError(RuntimeError):
    pass


def default_name(dialect: str, label: str = "") -> str:
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    return stamp + (f"-{label}" if label else "") + (".sqlite3" if dialect == "sqlite" else ".dump")


def backup(engine: Engine, path: Path | None, default_dir: Path, label: str = "") -> Path:
    """Write a snapshot of ``engine``'s database; returns the file written.

    ``label`` goes into the default file name (``<UTC timestamp>-<label>.sqlite3``).
    """
    dialect = engine.dialect.name
    if path is None:
        path = default_dir / default_name(dialect, label)
    elif path.is_dir():
        path = path / default_name(dialect, label)
    if path.exists():
        raise BackupError(f"{path} already exists: choose another name.")
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(path.name + ".partial")
    try:
        if dialect == "sqlite":
            _sqlite_backup(_sqlite_file(engine.url), partial)
        elif dialect == "postgresql":
            _run(["pg_dump", "--format=custom", "--file", str(partial), *_pg_target(engine.url)], engine.url)
        else:
            raise BackupError(f"No backup method for {dialect} databases.")
        os.chmod(partial, 0o600)  # it holds personal data
        partial.replace(path)
    finally:
        partial.unlink(missing_ok=True)
    return path


def restore(engine: Engine, path: Path) -> None:
    """Replace the content of ``engine``'s database with the snapshot at ``path``."""
    dialect = engine.dialect.name
    with path.open("rb") as fh:
        head = fh.read(16)
    # No connection of this process may hold the database while it is replaced.
    engine.dispose()
    if dialect == "sqlite":
        if not head.startswith(SQLITE_MAGIC):
            raise BackupError(f"{path} is not a SQLite backup.")
        _check_sqlite(path)
        _sqlite_copy(path, Path(_sqlite_file(engine.url)))
    elif dialect == "postgresql":
        if not head.startswith(PG_MAGIC):
            raise BackupError(f"{path} is not a pg_dump custom-format backup.")
        _run(
            [
                "pg_restore", "--clean", "--if-exists", "--single-transaction", "--exit-on-error",
                "--no-owner", "--no-privileges", *_pg_target(engine.url, "--dbname"), str(path),
            ],
            engine.url,
        )
    else:
        raise BackupError(f"No restore method for {dialect} databases.")
    engine.dispose()


# -- SQLite ---------------------------------------------------------------------------

def _sqlite_file(url: URL) -> str:
    database = url.database
    if not database or database == ":memory:" or database.startswith("file::memory:"):
        raise BackupError("An in-memory SQLite database cannot be backed up or restored.")
    return database


def _sqlite_backup(source: str, destination: Path) -> None:
    if not Path(source).exists():
        raise BackupError(f"The database file {source} does not exist.")
    src = sqlite3.connect(source)
    dst = sqlite3.connect(destination)
    try:
        src.backup(dst)
        # A self-contained file: no -wal/-shm companions.
        dst.execute("PRAGMA journal_mode=DELETE")
        result = dst.execute("PRAGMA integrity_check").fetchone()[0]
        if result != "ok":
            raise BackupError(f"The snapshot failed its integrity check: {result}")
    finally:
        dst.close()
        src.close()


def _check_sqlite(path: Path) -> None:
    conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        if conn.execute("PRAGMA integrity_check").fetchone()[0] != "ok":
            raise BackupError(f"{path} is damaged (integrity check failed).")
        has_version = conn.execute(
            "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = 'alembic_version'"
        ).fetchone()[0]
        if not has_version:
            raise BackupError(f"{path} is not a Mesa database (no migration version).")
    finally:
        conn.close()


def _sqlite_copy(source: Path, destination: Path) -> None:
    src = sqlite3.connect(f"file:{source}?mode=ro", uri=True)
    dst = sqlite3.connect(destination, timeout=30)
    try:
        src.backup(dst)
    finally:
        dst.close()
        src.close()


# -- PostgreSQL ---------------------------------------------------------------------

def _pg_target(url: URL, dbname_flag: str = "--dbname") -> list[str]:
    args = []
    if url.host:
        args += ["--host", url.host]
    if url.port:
        args += ["--port", str(url.port)]
    if url.username:
        args += ["--username", url.username]
    args += [dbname_flag, url.database or ""]
    return args


def _run(command: list[str], url: URL) -> None:
    if shutil.which(command[0]) is None:
        raise BackupError(f"{command[0]} is not installed (Debian: apt-get install postgresql-client).")
    env = dict(os.environ)
    if url.password:
        env["PGPASSWORD"] = url.password
    for key, variable in (("sslmode", "PGSSLMODE"), ("sslrootcert", "PGSSLROOTCERT")):
        if key in url.query:
            env[variable] = str(url.query[key])
    result = subprocess.run(command, check=False, env=env, capture_output=True, text=True, stdin=subprocess.DEVNULL)
    if result.returncode != 0:
        raise BackupError(f"{command[0]} failed ({result.returncode}): {result.stderr.strip()[-2000:]}")
