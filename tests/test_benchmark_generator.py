"""The benchmark generator (benchmarks/generate.py) makes a database the app can write to:
rows are bulk-inserted with explicit ids, and on PostgreSQL the sequences must be set
after them or the next INSERT collides with row 1."""
from __future__ import annotations

import importlib.util
import os
import sys
from pathlib import Path

import pytest
from sqlalchemy import create_engine, func, select, text
from sqlalchemy.engine import make_url

from consultations import create_app
from consultations.config import normalise_database_url
from consultations.extensions import db

ROOT = Path(__file__).resolve().parent.parent


def _generator():
    spec = importlib.util.spec_from_file_location("mesa_benchmark_generate", ROOT / "benchmarks" / "generate.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up
    spec.loader.exec_module(module)
    return module


@pytest.fixture
def scratch_url(tmp_path):
    """An empty database next to the test database: a file on SQLite, a database of its
    own on the same PostgreSQL server (the test database itself is left alone)."""
    url = os.environ.get("MESA_TEST_DATABASE_URL")
    if not url:
        yield "sqlite:///" + str(tmp_path / "generated.sqlite3")
        return
    url = make_url(normalise_database_url(url))
    scratch = url.set(database=f"{url.database}_generator")
    admin = create_engine(url.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{scratch.database}" WITH (FORCE)'))
        conn.execute(text(f'CREATE DATABASE "{scratch.database}"'))
    try:
        yield scratch.render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{scratch.database}" WITH (FORCE)'))
        admin.dispose()


def test_generated_database_has_the_shape_and_accepts_writes(scratch_url, tmp_path, monkeypatch):
    from consultations.contributions.models import (
        Contribution,
        ContributionObjective,
        proposal_answers,
    )
    from consultations.roundtables.models import Registration

    monkeypatch.setenv("MESA_INSTANCE_PATH", str(tmp_path / "instance"))
    generate = _generator()
    stats = generate.generate(scratch_url, contributions=1_200, consultations=20, quiet=True)
    assert stats["rows"]["contributions"] == 1_200
    assert stats["anonymous"] > 0 and stats["answers"] > 0 and stats["raised_at_first_table"] > 0

    app = create_app({"TESTING": True, "SQLALCHEMY_DATABASE_URI": scratch_url, "SECRET_KEY": "test",
                      "WTF_CSRF_ENABLED": False, "RATELIMIT_ENABLED": False, "MESA_WORD_PAGE_NUMBERS": False})
    with app.app_context():
        if db.engine.dialect.name == "postgresql":
            assert stats["sequences"] >= 10
        before = db.session.scalar(select(func.max(Contribution.id)))
        assert before == 1_200
        # Every category, the three kinds, anonymous and raised-at-a-table contributions.
        categories = set(db.session.scalars(select(Contribution.stakeholder_category).distinct()))
        assert len(categories) == 9
        assert db.session.scalar(select(func.count()).select_from(proposal_answers)) == stats["answers"]
        assert db.session.scalar(select(func.count()).select_from(ContributionObjective)) >= 1_200
        assert db.session.scalar(select(func.count()).select_from(Registration)) > 0
        db.session.remove()

        client = app.test_client()
        assert client.post("/login", data={"email": "participant@bench.example", "password": generate.PASSWORD}).status_code == 302
        response = client.post("/consultations/1/contribute", data={
            "kind": "challenge", "title": "Written after the bulk load", "body": "It works.",
            "objectives": ["3"], "language": "en",
        })
        assert response.status_code == 302, response.get_data(as_text=True)[:2000]
        created = db.session.scalar(select(Contribution).where(Contribution.title == "Written after the bulk load"))
        assert created is not None and created.id == before + 1
        assert [o.objective for o in created.objectives] == [3]
        # A new account too (the users' sequence).
        from consultations.accounts.services import register_user

        user = register_user("new@bench.example", "New person", "correct horse battery")
        db.session.commit()
        assert user.id == stats["users"] + 1
        db.session.remove()
        db.engine.dispose()
