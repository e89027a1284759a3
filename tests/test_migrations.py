"""The migrations are the schema: the models must match them, and the app refuses to
serve a database that is behind."""
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext

from consultations import create_app
from consultations.extensions import db


def test_models_match_migrations(app):
    with app.app_context(), db.engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"compare_type": True})
        diff = compare_metadata(context, db.metadata)
    assert diff == []


def test_unmigrated_database_is_refused_with_a_clear_message(tmp_path):
    app = create_app(
        {"TESTING": True, "SECRET_KEY": "x", "SQLALCHEMY_DATABASE_URI": "sqlite:///" + str(tmp_path / "empty.sqlite3")}
    )
    client = app.test_client()
    response = client.get("/")
    assert response.status_code == 503
    assert "flask --app app db upgrade" in response.get_data(as_text=True)
    with app.app_context():
        from flask_migrate import upgrade

        upgrade()
        db.engine.dispose()
    assert client.get("/").status_code == 200
    with app.app_context():
        db.engine.dispose()


def _sqlite_app(tmp_path):
    return create_app(
        {"TESTING": True, "SECRET_KEY": "x", "SQLALCHEMY_DATABASE_URI": "sqlite:///" + str(tmp_path / "m.sqlite3")}
    )


def _revisions(app):
    from alembic.script import ScriptDirectory

    config = app.extensions["migrate"].migrate.get_config()
    script = ScriptDirectory.from_config(config)
    return config, [r.revision for r in reversed(list(script.walk_revisions("base", "heads")))]


def _pooled_foreign_keys():
    """PRAGMA foreign_keys of every idle connection in the app's pool."""
    conns = [db.engine.connect() for _ in range(max(db.engine.pool.checkedin(), 1))]
    try:
        return [c.exec_driver_sql("PRAGMA foreign_keys").scalar() for c in conns]
    finally:
        for c in conns:
            c.close()


def test_sqlite_upgrade_keeps_children_of_rebuilt_tables(tmp_path):
    """Issue 10: a batch rebuild of ``contributions`` (roundtables revision) or of
    ``consultations`` (moderation revision) dropped the old table with foreign keys on,
    and ON DELETE CASCADE emptied every child table. Exit code 0, integrity_check ok."""
    import sqlite3

    from alembic import command

    app = _sqlite_app(tmp_path)
    with app.app_context():
        config, order = _revisions(app)
        command.upgrade(config, order[0])
        db.engine.dispose()
        raw = sqlite3.connect(tmp_path / "m.sqlite3")
        raw.executescript(
            """
            INSERT INTO consultations (id, title, kind, description_md, description_html, territory, language,
                opens_on, closes_on, eligibility, state, created_at, updated_at, state_changed_at)
                VALUES (1, 'C', 'online_call', '', '', 'Spain', 'es', '2024-01-01', '2024-02-01', 'registered',
                'open', '2024-01-01 00:00:00', '2024-01-01 00:00:00', '2024-01-01 00:00:00');
            INSERT INTO consultation_objectives VALUES (1, 5);
            INSERT INTO users (id, email, display_name, password_hash, role, individual_category, session_token,
                created_at) VALUES (1, 'a@example.org', 'A', 'x', 'organiser', 'other', 't', '2024-01-01 00:00:00');
            INSERT INTO consultation_organisers VALUES (1, 1);
            INSERT INTO contributions (id, consultation_id, kind, title, body_md, body_html, author_id,
                stakeholder_category, name_organisation, status, created_at, updated_at)
                VALUES (1, 1, 'challenge', 'T', '', '', 1, 'ngo', 0, 'active', '2024-01-01 00:00:00',
                '2024-01-01 00:00:00');
            INSERT INTO contribution_objectives VALUES (1, 5);
            """
        )
        raw.commit()
        raw.close()
        command.upgrade(config, "head")
        with db.engine.connect() as conn:
            counts = {
                t: conn.exec_driver_sql(f"SELECT count(*) FROM {t}").scalar()
                for t in ("consultations", "consultation_objectives", "consultation_organisers",
                          "contributions", "contribution_objectives")
            }
            author = conn.exec_driver_sql("SELECT author_id FROM contributions").scalar()
            assert conn.exec_driver_sql("PRAGMA foreign_key_check").all() == []
        assert counts == dict.fromkeys(counts, 1)
        assert author == 1  # not SET NULL by a rebuild of users
        assert _pooled_foreign_keys() == [1] * len(_pooled_foreign_keys())
        db.engine.dispose()


def test_sqlite_upgrade_with_a_dangling_row_fails_and_changes_nothing(tmp_path):
    """The foreign-key check after the run fails the upgrade loudly and rolls it back,
    and the app's connections still enforce foreign keys afterwards."""
    import sqlite3

    import pytest
    from alembic import command

    app = _sqlite_app(tmp_path)
    with app.app_context():
        config, order = _revisions(app)
        command.upgrade(config, order[-2])
        db.engine.dispose()
        raw = sqlite3.connect(tmp_path / "m.sqlite3")  # foreign keys off: the row can go in
        raw.execute("INSERT INTO consultation_objectives VALUES (999, 3)")
        raw.commit()
        raw.close()
        with pytest.raises(RuntimeError, match="foreign key"):
            command.upgrade(config, "head")
        with db.engine.connect() as conn:
            version = conn.exec_driver_sql("SELECT version_num FROM alembic_version").scalars().all()
            kept = conn.exec_driver_sql("SELECT count(*) FROM consultation_objectives").scalar()
        assert version == [order[-2]]
        assert kept == 1
        assert _pooled_foreign_keys() == [1] * len(_pooled_foreign_keys())
        db.engine.dispose()
