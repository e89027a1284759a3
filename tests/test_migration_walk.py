"""Every migration keeps the data: walk all revisions up and down on a populated database.

For each revision, from the first to the head, every table that exists at that revision
gets rows generated from the reflected schema (columns, types, NOT NULL, CHECK
constraints, foreign keys), so a table added by a future migration is covered without
editing this file. Then the walk upgrades one step, downgrades it, upgrades it again, and
after every step checks that

- every table that exists on both sides kept its row count (a table the step creates or
  drops is allowed to appear or disappear; a downgrade must drop exactly what the upgrade
  created),
- no foreign key lost its value (an ON DELETE SET NULL fired by a table rebuild keeps the
  row count but loses the link, so non-null foreign-key values are counted too),
- nothing dangles (``PRAGMA foreign_key_check`` on SQLite, an anti-join for every
  foreign key on both databases),
- a downgrade gives back the tables, columns and foreign keys the revision had,
- on SQLite, the app's pooled connections still enforce foreign keys.

It runs on SQLite, and on PostgreSQL when MESA_TEST_DATABASE_URL points at one (in a
scratch database ``<name>_walk`` created next to the suite's and dropped afterwards).
"""
from __future__ import annotations

import itertools
import os
import re
import uuid
from datetime import date, datetime, time, timedelta

import pytest
from alembic import command
from alembic.script import ScriptDirectory
from sqlalchemy import (
    CheckConstraint,
    MetaData,
    and_,
    create_engine,
    func,
    inspect,
    select,
    text,
    types,
)
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError

from consultations import create_app
from consultations.config import normalise_database_url
from consultations.extensions import db

# Values for a column whose constraints the generator cannot satisfy on its own (a CHECK
# across several columns, say): {"table": {"column": value}}. Keep it small.
OVERRIDES: dict[str, dict[str, object]] = {}

_counter = itertools.count(1)
_LITERAL = re.compile(r"'((?:[^']|'')*)'")
_NUMBER = re.compile(r"(?<![\w.])-?\d+(?![\w.])")


# -- the scratch database -----------------------------------------------------------

@pytest.fixture
def walk_url(tmp_path):
    url = os.environ.get("MESA_TEST_DATABASE_URL")
    if not url:
        yield "sqlite:///" + str(tmp_path / "walk.sqlite3")
        return
    base = make_url(normalise_database_url(url))
    if base.get_backend_name() != "postgresql":
        pytest.skip(f"no migration walk for {base.get_backend_name()}")
    scratch = base.set(database=f"{base.database}_walk")
    admin = create_engine(base, isolation_level="AUTOCOMMIT")

    def drop(conn):
        conn.execute(
            text("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = :name AND pid <> pg_backend_pid()"),
            {"name": scratch.database},
        )
        conn.execute(text(f'DROP DATABASE IF EXISTS "{scratch.database}"'))

    try:
        with admin.connect() as conn:
            drop(conn)
            conn.execute(text(f'CREATE DATABASE "{scratch.database}"'))
        yield scratch.render_as_string(hide_password=False)
        with admin.connect() as conn:
            drop(conn)
    finally:
        admin.dispose()


@pytest.fixture
def walk_app(walk_url):
    app = create_app({"TESTING": True, "SQLALCHEMY_DATABASE_URI": walk_url, "SECRET_KEY": "walk"})
    with app.app_context():
        yield app
        db.session.remove()
        db.engine.dispose()


# -- generating rows ------------------------------------------------------------------

def _strip_literals(sql: str) -> str:
    return _LITERAL.sub("''", sql)


def _single_column_checks(table) -> dict[str, list[str]]:
    """CHECK constraints that mention exactly one column, by column."""
    found: dict[str, list[str]] = {}
    for check in table.constraints:
        if not isinstance(check, CheckConstraint):
            continue
        sql = str(check.sqltext)
        bare = _strip_literals(sql)
        mentioned = [c.name for c in table.columns if re.search(rf"(?<![\w.]){re.escape(c.name)}(?!\w)", bare)]
        if len(mentioned) == 1:
            found.setdefault(mentioned[0], []).append(sql)
    return found


_probed: dict[tuple, bool] = {}


def _passes(conn, column, value, checks: list[str]) -> bool:
    """Does ``value`` satisfy these single-column CHECKs? Asked of the database itself."""
    type_sql = column.type.compile(dialect=conn.dialect)
    key = (conn.dialect.name, column.name, type_sql, repr(value), tuple(checks))
    if key not in _probed:
        name = conn.dialect.identifier_preparer.quote(column.name)
        condition = " AND ".join(f"({sql})" for sql in checks)
        probe = text(f"SELECT 1 FROM (SELECT CAST(:v AS {type_sql}) AS {name}) AS probe WHERE {condition}")
        try:
            with conn.begin_nested():
                _probed[key] = conn.execute(probe, {"v": value}).first() is not None
        except DBAPIError:
            _probed[key] = False
    return _probed[key]


def _candidates(column, position: int, n: int, checks: list[str]) -> list:
    kind = column.type
    literals = [m.replace("''", "'") for sql in checks for m in _LITERAL.findall(sql)]
    numbers = sorted({int(x) + d for sql in checks for x in _NUMBER.findall(_strip_literals(sql)) for d in (-1, 0, 1)})
    if isinstance(kind, types.Boolean):
        return [False, True]
    if isinstance(kind, (types.Integer, types.Numeric, types.Float)):
        return [*numbers, n]
    if isinstance(kind, types.String):  # String, Text, VARCHAR, ...
        length = getattr(kind, "length", None)
        generated = f"{n}-{column.name}"
        return [*literals, generated[:length] if length else generated]
    # Later columns get later moments, so "ends_at > starts_at" style checks hold.
    if isinstance(kind, types.DateTime):
        return [datetime(2024, 1, 1, 9) + timedelta(hours=position)]
    if isinstance(kind, types.Date):
        return [date(2024, 1, 1) + timedelta(days=position)]
    if isinstance(kind, types.Time):
        return [time(9, position % 60)]
    if isinstance(kind, types.JSON):
        return [{}]
    if isinstance(kind, types.LargeBinary):
        return [b"walk"]
    if isinstance(kind, types.Uuid):
        return [uuid.uuid4()]
    return []


def _add_row(conn, table, problems: list[str]) -> None:
    n = next(_counter)
    checks = _single_column_checks(table)
    overrides = OVERRIDES.get(table.name, {})
    row: dict[str, object] = {}
    in_foreign_key = {e.parent.name for fk in table.foreign_key_constraints for e in fk.elements}

    # Foreign keys point at the newest row of the referred table, so that every new
    # row of a child has a new parent (composite primary keys stay unique).
    for fk in table.foreign_key_constraints:
        referred = [e.column for e in fk.elements]
        parent = conn.execute(select(*referred).order_by(*[c.desc() for c in referred]).limit(1)).first()
        if parent is None:
            if all(e.parent.nullable for e in fk.elements):
                continue
            problems.append(f"{table.name}: no row in {fk.referred_table.name} to refer to")
            return
        row.update(zip([e.parent.name for e in fk.elements], parent))

    for position, column in enumerate(table.columns):
        name = column.name
        if name in overrides:
            row[name] = overrides[name]
            continue
        if name in row:
            continue
        if list(table.primary_key.columns) == [column] and isinstance(column.type, types.Integer) \
                and name not in in_foreign_key:
            continue  # the database numbers it
        if column.nullable:
            continue  # NULL
        if column.server_default is not None:
            continue  # the server default
        column_checks = checks.get(name, [])
        value = next(
            (v for v in _candidates(column, position, n, column_checks)
             if not column_checks or _passes(conn, column, v, column_checks)),
            _NOTHING,
        )
        if value is _NOTHING:
            problems.append(
                f"{table.name}.{name} ({column.type}): no value satisfies its type and checks "
                f"{column_checks}; add it to OVERRIDES in {__name__}"
            )
            return
        row[name] = value

    try:
        with conn.begin_nested():
            conn.execute(table.insert().values(**row))
    except DBAPIError as exc:
        problems.append(
            f"{table.name}: the generated row {row!r} was refused ({exc.orig}); "
            f"add the column(s) to OVERRIDES in {__name__}"
        )


_NOTHING = object()


def _tables(conn) -> list:
    metadata = MetaData()
    metadata.reflect(bind=conn)
    return [t for t in metadata.sorted_tables if t.name != "alembic_version"]


def populate() -> None:
    """Add one row to every table (parents first). Fails if a table could not get one."""
    with db.engine.begin() as conn:
        tables = _tables(conn)
        problems: list[str] = []
        for table in tables:
            _add_row(conn, table, problems)
        if problems:
            pytest.fail("Could not populate every table:\n  " + "\n  ".join(problems), pytrace=False)
        empty = [t.name for t in tables if not conn.scalar(select(func.count()).select_from(t))]
        assert not empty, f"tables without rows after populating: {empty}"


# -- observing ------------------------------------------------------------------------

def snapshot() -> dict:
    """Row counts, non-null foreign-key values, dangling rows, the shape of the schema."""
    with db.engine.connect() as conn:
        counts, links, shape, dangling = {}, {}, {}, []
        if conn.dialect.name == "sqlite":
            dangling += [repr(tuple(r)) for r in conn.exec_driver_sql("PRAGMA foreign_key_check").all()]
        for table in _tables(conn):
            counts[table.name] = conn.scalar(select(func.count()).select_from(table))
            for fk in table.foreign_key_constraints:
                cols = [e.parent for e in fk.elements]
                key = (table.name, tuple(c.name for c in cols), fk.referred_table.name)
                links[key] = conn.scalar(select(func.count()).select_from(table).where(*[c.isnot(None) for c in cols]))
                parent = fk.referred_table.alias("parent")
                missing = conn.scalar(
                    select(func.count())
                    .select_from(table.outerjoin(parent, and_(*[parent.c[e.column.name] == e.parent for e in fk.elements])))
                    .where(*[c.isnot(None) for c in cols])
                    .where(parent.c[fk.elements[0].column.name].is_(None))
                )
                if missing:
                    dangling.append(f"{key}: {missing} row(s)")
            shape[table.name] = (
                sorted(c.name for c in table.columns),
                sorted(
                    (tuple(e.parent.name for e in fk.elements), fk.referred_table.name,
                     tuple(e.column.name for e in fk.elements), fk.ondelete)
                    for fk in table.foreign_key_constraints
                ),
            )
        version = conn.execute(text("SELECT version_num FROM alembic_version")).scalars().all()
    return {"counts": counts, "links": links, "shape": shape, "dangling": dangling, "version": version}


def _pooled_foreign_keys() -> list[int]:
    conns = [db.engine.connect() for _ in range(max(db.engine.pool.checkedin(), 1))]
    try:
        return [c.exec_driver_sql("PRAGMA foreign_keys").scalar() for c in conns]
    finally:
        for c in conns:
            c.close()


def assert_kept(before: dict, after: dict, step: str, *, dropped_may_be: set[str] | None = None) -> None:
    lost = {
        t: (before["counts"][t], after["counts"][t])
        for t in before["counts"]
        if t in after["counts"] and before["counts"][t] != after["counts"][t]
    }
    assert not lost, f"{step}: row counts changed (before, after): {lost}"
    unlinked = {
        k: (before["links"][k], after["links"][k])
        for k in before["links"]
        if k in after["links"] and before["links"][k] != after["links"][k]
    }
    assert not unlinked, f"{step}: foreign-key values lost (before, after): {unlinked}"
    gone = set(before["counts"]) - set(after["counts"])
    if dropped_may_be is not None:
        assert gone <= dropped_may_be, f"{step}: dropped tables it did not create: {sorted(gone - dropped_may_be)}"
    assert not after["dangling"], f"{step}: dangling foreign keys: {after['dangling']}"
    if db.engine.dialect.name == "sqlite":
        # Every idle pooled connection goes back to the app enforcing foreign keys.
        states = _pooled_foreign_keys()
        assert states == [1] * len(states), f"{step}: a pooled connection has foreign keys off"


# -- the walk -------------------------------------------------------------------------

def _revisions(app) -> tuple[object, list[str]]:
    config = app.extensions["migrate"].migrate.get_config()
    script = ScriptDirectory.from_config(config)
    heads = script.get_heads()
    assert len(heads) == 1, f"the migrations have several heads {heads}: merge them (flask db merge)"
    order = [r.revision for r in reversed(list(script.walk_revisions("base", "heads")))]
    return config, order


def test_every_migration_keeps_the_data_up_and_down(walk_app):
    config, order = _revisions(walk_app)
    assert len(order) >= 2

    command.upgrade(config, order[0])
    command.downgrade(config, "base")
    with db.engine.connect() as conn:
        assert set(inspect(conn).get_table_names()) <= {"alembic_version"}
    command.upgrade(config, order[0])
    populate()

    for previous, revision in itertools.pairwise(order):
        before = snapshot()
        command.upgrade(config, revision)
        step = f"upgrade {previous} -> {revision}"
        after = snapshot()
        assert after["version"] == [revision]
        assert_kept(before, after, step)
        created = set(after["counts"]) - set(before["counts"])

        populate()  # the new tables get rows too, before going back down
        up = snapshot()
        command.downgrade(config, previous)
        step = f"downgrade {revision} -> {previous}"
        down = snapshot()
        assert down["version"] == [previous]
        assert_kept(up, down, step, dropped_may_be=created)
        assert down["shape"] == before["shape"], f"{step}: the schema differs from {previous}'s"

        command.upgrade(config, revision)
        step = f"upgrade {previous} -> {revision} again"
        again = snapshot()
        assert_kept(down, again, step)
        assert again["shape"] == after["shape"], f"{step}: the schema differs from the first upgrade"
        populate()



def test_the_walk_notices_lost_rows_lost_links_and_dangling_rows(walk_app):
    """The checks above are not vacuous: each kind of damage makes them fail."""
    config, _ = _revisions(walk_app)
    command.upgrade(config, "head")
    populate()
    before = snapshot()
    assert all(before["counts"].values()) and all(before["links"].values())
    damages = {
        "row counts changed": "DELETE FROM contribution_objectives",
        "foreign-key values lost": "UPDATE contributions SET author_id = NULL",
    }
    for expected, damage in damages.items():
        with db.engine.begin() as conn:
            conn.exec_driver_sql(damage)
        with pytest.raises(AssertionError, match=expected):
            assert_kept(before, snapshot(), "damage")
        before = snapshot()
    if db.engine.dialect.name == "sqlite":
        with db.engine.connect() as conn:
            raw = conn.connection.driver_connection
            raw.execute("PRAGMA foreign_keys=OFF")
            raw.execute("INSERT INTO consultation_objectives VALUES (9999, 2)")
            raw.execute("PRAGMA foreign_keys=ON")
        damaged = snapshot()
        with pytest.raises(AssertionError, match="dangling"):
            assert_kept(damaged, damaged, "damage")
