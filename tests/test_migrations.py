"""The migrations are the schema: the models must match them, and the app refuses to
serve a database that is behind."""
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext

from consultations import create_app
from consultations.extensions import db


def test_models_match_migrations(app):
    with app.app_context():
        with db.engine.connect() as conn:
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
