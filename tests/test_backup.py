"""flask backup / flask restore round-trip a populated database (SQLite, or PostgreSQL
when MESA_TEST_DATABASE_URL points at one)."""
from __future__ import annotations

import shutil
import stat

import pytest
from sqlalchemy import select, text

from consultations import backup as backups
from consultations.accounts.models import User
from consultations.audit.services import record
from consultations.contributions.models import Contribution
from consultations.extensions import db


def _everything() -> dict:
    """Every row of every table, in a stable order."""
    snapshot = {}
    for table in db.metadata.sorted_tables:
        order = list(table.primary_key.columns) or list(table.columns)
        rows = db.session.execute(select(table).order_by(*order)).all()
        snapshot[table.name] = [tuple(row) for row in rows]
    snapshot["alembic_version"] = db.session.scalars(text("SELECT version_num FROM alembic_version")).all()
    return snapshot


@pytest.fixture
def populated(make_user, make_org, make_consultation, make_contribution):
    org = make_org(name="Fundación CEPAIM", category="ngo")
    author = make_user(organisation=org, name="Ana")
    consultation = make_consultation(title="Día de consulta con la sociedad civil")
    challenge = make_contribution(consultation, author=author, title="Acceso al padrón", body="Texto *ñandú* ✓")
    make_contribution(consultation, author=make_user(), kind="proposal", answers=[challenge.id])
    record(author, "account.data_exported", target=author, note_code=1)
    db.session.commit()
    return consultation


def _needs_tools():
    if db.engine.dialect.name == "postgresql" and not (shutil.which("pg_dump") and shutil.which("pg_restore")):
        pytest.skip("pg_dump/pg_restore not installed")


def test_backup_and_restore_round_trip(app, populated, tmp_path):
    _needs_tools()
    consultation_id = populated.id
    before = _everything()
    assert before["contributions"] and before["users"]
    runner = app.test_cli_runner()
    target = tmp_path / ("snapshot.sqlite3" if db.engine.dialect.name == "sqlite" else "snapshot.dump")
    result = runner.invoke(args=["backup", str(target)])
    assert result.exit_code == 0, result.output
    assert target.exists() and "Backup written" in result.output
    assert stat.S_IMODE(target.stat().st_mode) == 0o600

    # Life goes on: a contribution is deleted, an account added, a title changed.
    db.session.delete(db.session.scalars(select(Contribution)).first())
    db.session.add(User(email="later@example.org", display_name="Later", password_hash="x"))
    populated.title = "Changed after the backup"
    db.session.commit()
    assert _everything() != before

    db.session.remove()  # the test's own connection must not hold the database
    result = runner.invoke(args=["restore", str(target)], input="n\n")
    assert result.exit_code != 0  # refused without confirmation
    result = runner.invoke(args=["restore", str(target), "--yes"])
    assert result.exit_code == 0, result.output
    assert _everything() == before
    # The app serves the restored data.
    page = app.test_client().get(f"/consultations/{consultation_id}").get_data(as_text=True)
    assert "Día de consulta con la sociedad civil" in page


def test_backup_refuses_to_overwrite_and_restore_refuses_other_files(app, populated, tmp_path):
    _needs_tools()
    runner = app.test_cli_runner()
    existing = tmp_path / "exists.bak"
    existing.write_text("keep me")
    result = runner.invoke(args=["backup", str(existing)])
    assert result.exit_code != 0 and "already exists" in result.output
    assert existing.read_text() == "keep me"
    db.session.remove()
    result = runner.invoke(args=["restore", str(existing), "--yes"])
    assert result.exit_code != 0 and "is not a" in result.output
    assert db.session.scalar(select(Contribution.id)) is not None  # nothing lost


def test_backup_into_a_directory_and_default_name(app, populated, tmp_path):
    _needs_tools()
    written = backups.backup(db.engine, tmp_path, tmp_path / "unused")
    assert written.parent == tmp_path
    assert written.name.endswith(".sqlite3" if db.engine.dialect.name == "sqlite" else ".dump")
    default = backups.backup(db.engine, None, tmp_path / "backups")
    assert default.parent == tmp_path / "backups"
    assert not list(tmp_path.glob("*.partial"))


def test_sqlite_restore_refuses_a_non_mesa_database(app, tmp_path):
    if db.engine.dialect.name != "sqlite":
        pytest.skip("SQLite only")
    import sqlite3

    other = tmp_path / "other.sqlite3"
    conn = sqlite3.connect(other)
    conn.execute("CREATE TABLE t (x)")
    conn.close()
    with pytest.raises(backups.BackupError, match="not a Mesa database"):
        backups.restore(db.engine, other)


def _sqlite_cli_app(tmp_path, monkeypatch):
    from consultations import create_app

    monkeypatch.setenv("MESA_INSTANCE_PATH", str(tmp_path / "instance"))
    app = create_app(
        {"TESTING": True, "SECRET_KEY": "x", "SQLALCHEMY_DATABASE_URI": "sqlite:///" + str(tmp_path / "m.sqlite3")}
    )
    from alembic.script import ScriptDirectory

    with app.app_context():
        script = ScriptDirectory.from_config(app.extensions["migrate"].migrate.get_config())
        order = [r.revision for r in reversed(list(script.walk_revisions("base", "heads")))]
    return app, order


def _version(path) -> list[str]:
    import sqlite3

    conn = sqlite3.connect(path)
    try:
        return [r[0] for r in conn.execute("SELECT version_num FROM alembic_version")]
    finally:
        conn.close()


def test_db_upgrade_backs_up_a_migrated_sqlite_database_first(tmp_path, monkeypatch):
    import sqlite3

    app, order = _sqlite_cli_app(tmp_path, monkeypatch)
    backups_dir = tmp_path / "instance" / "backups"
    runner = app.test_cli_runner()

    # A fresh database has nothing to protect: no backup.
    result = runner.invoke(args=["db", "upgrade", order[-2]])
    assert result.exit_code == 0, result.output
    assert "Backup" not in result.output
    assert not backups_dir.exists() or not list(backups_dir.iterdir())

    conn = sqlite3.connect(tmp_path / "m.sqlite3")
    conn.execute(
        "INSERT INTO organisations (name, category, created_at) VALUES ('Asociación Rumiñahui', 'ngo', '2024-01-01')"
    )
    conn.commit()
    conn.close()

    result = runner.invoke(args=["db", "upgrade"])
    assert result.exit_code == 0, result.output
    written = list(backups_dir.iterdir())
    assert len(written) == 1
    snapshot = written[0]
    assert f"Backup of the database before upgrading: {snapshot}" in result.output
    assert snapshot.name.endswith(f"-before-upgrade-from-{order[-2]}.sqlite3")
    assert stat.S_IMODE(snapshot.stat().st_mode) == 0o600
    assert _version(snapshot) == [order[-2]]  # taken before the upgrade
    assert _version(tmp_path / "m.sqlite3") == [order[-1]]
    conn = sqlite3.connect(snapshot)
    assert conn.execute("SELECT name FROM organisations").fetchall() == [("Asociación Rumiñahui",)]
    assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    conn.close()

    # Nothing pending: no backup. --no-backup: none either.
    result = runner.invoke(args=["db", "upgrade"])
    assert result.exit_code == 0, result.output
    assert "Backup" not in result.output
    assert runner.invoke(args=["db", "downgrade"]).exit_code == 0
    result = runner.invoke(args=["db", "upgrade", "--no-backup"])
    assert result.exit_code == 0, result.output
    assert "Backup" not in result.output
    assert len(list(backups_dir.iterdir())) == 1
    assert _version(tmp_path / "m.sqlite3") == [order[-1]]
    with app.app_context():
        db.engine.dispose()


def test_failed_db_upgrade_leaves_the_database_and_the_backup(tmp_path, monkeypatch):
    import sqlite3

    app, order = _sqlite_cli_app(tmp_path, monkeypatch)
    runner = app.test_cli_runner()
    assert runner.invoke(args=["db", "upgrade", order[-2]]).exit_code == 0
    conn = sqlite3.connect(tmp_path / "m.sqlite3")  # foreign keys off: a dangling row goes in
    conn.execute("INSERT INTO consultation_objectives VALUES (999, 3)")
    conn.commit()
    conn.close()

    result = runner.invoke(args=["db", "upgrade"])
    assert result.exit_code != 0
    assert _version(tmp_path / "m.sqlite3") == [order[-2]]  # rolled back
    (snapshot,) = (tmp_path / "instance" / "backups").iterdir()
    assert _version(snapshot) == [order[-2]]
    with app.app_context():
        db.engine.dispose()
