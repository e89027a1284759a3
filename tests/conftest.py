"""Test fixtures: a real database (SQLite by default, PostgreSQL with
MESA_TEST_DATABASE_URL), migrated once per session with the real migrations and
emptied after every test."""
from __future__ import annotations

import itertools
import os
from datetime import date

import pytest
from sqlalchemy import text

from flask import g, has_app_context
from flask.testing import FlaskClient

from consultations import create_app
from consultations.config import normalise_database_url
from consultations.extensions import db

PASSWORD = "correct horse battery"
_counter = itertools.count(1)


def _database_url(tmp_path_factory) -> str:
    url = os.environ.get("MESA_TEST_DATABASE_URL")
    if url:
        return normalise_database_url(url)
    return "sqlite:///" + str(tmp_path_factory.mktemp("db") / "test.sqlite3")


@pytest.fixture(scope="session")
def database_url(tmp_path_factory):
    url = _database_url(tmp_path_factory)
    app = create_app({"TESTING": True, "SQLALCHEMY_DATABASE_URI": url, "SECRET_KEY": "test"})
    with app.app_context():
        if db.engine.dialect.name == "postgresql":
            with db.engine.begin() as conn:
                conn.execute(text("DROP SCHEMA public CASCADE"))
                conn.execute(text("CREATE SCHEMA public"))
        from flask_migrate import upgrade

        upgrade()
        db.engine.dispose()
    return url


def _empty_tables() -> None:
    tables = [t for t in reversed(db.metadata.sorted_tables)]
    with db.engine.begin() as conn:
        if db.engine.dialect.name == "postgresql":
            names = ", ".join(f'"{t.name}"' for t in tables)
            conn.execute(text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))
        else:
            for table in tables:
                conn.execute(table.delete())


class IsolatedClient(FlaskClient):
    """pytest-flask keeps one app context for the whole test, so Flask-Login's user
    cached in ``g`` would leak from one client's request into the next: forget it,
    so every request loads its user from its own cookie, as in production."""

    def open(self, *args, **kwargs):
        if has_app_context():
            g.pop("_login_user", None)
        return super().open(*args, **kwargs)


@pytest.fixture
def app(database_url, tmp_path):
    app = create_app(
        {
            "TESTING": True,
            "SQLALCHEMY_DATABASE_URI": database_url,
            "SECRET_KEY": "test-secret",
            "WTF_CSRF_ENABLED": False,
            "SERVER_NAME": None,
            # Laying every Word download out again in LibreOffice costs seconds: only the
            # tests of the contents' page numbers switch it on.
            "MESA_WORD_PAGE_NUMBERS": False,
            # Charts drawn once and kept (summaries/charts.py): a cache of the test's own.
            "MESA_CHART_CACHE_DIR": str(tmp_path / "charts"),
        }
    )
    app.test_client_class = IsolatedClient
    yield app
    with app.app_context():
        db.session.remove()
        _empty_tables()
        db.engine.dispose()


@pytest.fixture
def csrf_app(app):
    app.config["WTF_CSRF_ENABLED"] = True
    return app


@pytest.fixture(autouse=True)
def fast_password_hashing(request, monkeypatch):
    """scrypt costs tens of milliseconds per hash by design; tests create hundreds of
    accounts, so they use a cheap hash unless marked ``real_password_hashing``."""
    if request.node.get_closest_marker("real_password_hashing"):
        return
    from functools import partial

    from werkzeug.security import generate_password_hash

    import consultations.accounts.models as account_models

    monkeypatch.setattr(
        account_models, "generate_password_hash", partial(generate_password_hash, method="pbkdf2:sha256:1000")
    )


# -- factories ----------------------------------------------------------------

@pytest.fixture
def make_org(app):
    from consultations.organisations.services import create_organisation

    def make(name=None, category="ngo", governance_level=None):
        org = create_organisation(name or f"Organisation {next(_counter)}", category, governance_level)
        db.session.commit()
        return org

    return make


@pytest.fixture
def make_user(app):
    from consultations.accounts.services import register_user

    def make(role="participant", organisation=None, email=None, name=None, individual_category="other"):
        n = next(_counter)
        user = register_user(
            email or f"user{n}@example.org",
            name or f"User {n}",
            PASSWORD,
            role=role,
            organisation=organisation,
            individual_category=individual_category,
        )
        db.session.commit()
        return user

    return make


@pytest.fixture
def make_consultation(app, make_user):
    from consultations.consultations.services import change_state, create_consultation

    def make(organiser=None, state="open", title=None, focus=(1, 16), eligibility="registered", invited=None, **fields):
        organiser = organiser or make_user(role="organiser")
        values = dict(
            title=title or f"Consultation {next(_counter)}",
            kind="online_call",
            opens_on=date(2024, 2, 1),
            closes_on=date(2024, 3, 1),
            description="A **consultation**.",
            territory="Spain",
            language="en",
            focus=focus,
            eligibility=eligibility,
            invited=invited or [],
        )
        values.update(fields)
        consultation = create_consultation(organiser, **values)
        path = {"draft": [], "open": ["open"], "closed": ["open", "closed"], "published": ["open", "closed", "published"]}
        for target in path[state]:
            change_state(consultation, target)
        db.session.commit()
        return consultation

    return make


@pytest.fixture
def make_contribution(app, make_user):
    from consultations.contributions.services import submit_contribution

    def make(consultation, author=None, kind="challenge", title=None, objectives=(1,), **fields):
        author = author or make_user()
        contribution = submit_contribution(
            consultation,
            author,
            kind=kind,
            title=title or f"Contribution {next(_counter)}",
            body=fields.pop("body", "Some *text*."),
            objectives=objectives,
            **fields,
        )
        db.session.commit()
        return contribution

    return make


class AuthActions:
    def __init__(self, client):
        self._client = client

    def login(self, user_or_email, password=PASSWORD):
        email = getattr(user_or_email, "email", user_or_email)
        return self._client.post("/login", data={"email": email, "password": password})

    def logout(self):
        return self._client.post("/logout")


@pytest.fixture
def auth(client):
    return AuthActions(client)
