"""Fill a database with a national-scale Mesa data set (issue 14).

    .venv/bin/python benchmarks/generate.py sqlite:////tmp/mesa-1m.sqlite3 --contributions 1000000
    .venv/bin/python benchmarks/generate.py postgresql://postgres:postgres@127.0.0.1/mesa_1m -n 100000

The database is created with the real migrations (``flask db upgrade``: it must be empty,
or not exist yet) and filled with N contributions over M consultations (default 500):

- organisations of every stakeholder category (administrations at every governance
  level), users who belong to them or speak as individuals;
- consultations of every kind and state (a few drafts, open ones with pre-moderation or an
  anonymous link), their objectives in focus, organisers;
- roundtables with facilitators, registrations, walk-ins, contributions raised at them
  (one table of the large consultation collects about 12% of its contributions) and
  challenges carried forward;
- contributions of the three kinds tagged with 1-3 objectives and 0-2 principles,
  proposals answering challenges of their consultation, anonymous ones (date only),
  input collected on behalf of others, withdrawn, hidden and pending ones, flags;
- one large consultation (consultation 1, open, 2% of every contribution by default);
- summaries: every visible consultation has one, a few are published through the real
  service, and a saved national summary over 50 consultations.

Pre-aggregated tables are kept by the database's own triggers (see the objective_counts
migration), which fire for these bulk inserts too.

Rows are written in bulk (``executemany`` on SQLite, ``COPY`` on PostgreSQL) with
explicit ids; afterwards every PostgreSQL sequence is set to its table's largest id, so
the database accepts writes, and the planner statistics are refreshed (ANALYZE).

The script only uses the models of the ``consultations`` package it imports, so it also
fills an older checkout's schema: ``PYTHONPATH=/path/to/old/checkout python
benchmarks/generate.py ...`` (columns the old models do not have are left out).

Who is who (the page benchmark and the load test log in as them, password
``benchmark password``): admin@bench.example, organiser@bench.example (organiser of
consultation 1 and of every tenth one), reviewer@bench.example,
participant@bench.example (member of an NGO).
"""
from __future__ import annotations

import argparse
import hashlib
import json
import logging
import os
import random
import sys
import tempfile
import time
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path

if __package__ in (None, ""):
    # Run as a script: import the checkout on PYTHONPATH first, else this repository.
    sys.path.append(str(Path(__file__).resolve().parent.parent))

log = logging.getLogger(__name__)

PASSWORD = "benchmark password"
SPECIAL_USERS = {
    1: ("admin@bench.example", "Bench Admin", "admin"),
    2: ("organiser@bench.example", "Bench Organiser", "organiser"),
    3: ("reviewer@bench.example", "Bench Reviewer", "reviewer"),
    4: ("participant@bench.example", "Bench Participant", "participant"),
}
CATEGORY_WEIGHTS = {
    "migrant_association": 14,
    "diaspora_organisation": 5,
    "ngo": 30,
    "trade_union": 8,
    "employers_organisation": 6,
    "academia": 8,
    "international_organisation": 4,
    "public_administration": 20,
    "other": 5,
}
LEVELS = ("municipal", "provincial", "regional", "national")
KINDS = ("civil_society_day", "regional_platform", "local_council", "inter_administration_day", "online_call")
PRINCIPLES = (
    "people-centred", "international-cooperation", "national-sovereignty", "rule-of-law",
    "sustainable-development", "human-rights", "gender-responsive", "child-sensitive",
    "whole-of-government", "whole-of-society",
)
TOPICS = (
    "reception of newcomers", "access to health care", "recognition of qualifications",
    "language courses", "registration at the town hall", "school enrolment", "housing",
    "labour inspection", "family reunification", "information in several languages",
    "legal aid", "return and reintegration", "regular pathways", "hate speech",
)
SENTENCES = (
    "Procedures take months and the forms exist only in Spanish.",
    "People without an address cannot register and so cannot see a doctor.",
    "Associations of migrants are rarely invited when the plans are written.",
    "A one-stop office with interpreters shortened the wait from six months to three weeks.",
    "Employers do not know which permits allow people to work.",
    "The municipality and the region ask for the same documents twice.",
    "Women who arrived through family reunification depend on their spouse's permit.",
    "Children start school late because the enrolment calendar ignores arrivals.",
    "Cultural mediators in hospitals made appointments possible for thousands of people.",
    "Data on outcomes are not published, so nobody can tell what works.",
)
BATCH = 20_000


@dataclass
class Plan:
    """What the generator makes (sizes derived from the number of contributions)."""

    contributions: int
    consultations: int = 500
    big: int | None = None
    seed: int = 2024
    organisations: int = 0
    users: int = 0
    roundtables_per_consultation: int = 2
    published_versions: int = 3
    extras: dict = field(default_factory=dict)

    def __post_init__(self):
        self.consultations = max(2, min(self.consultations, self.contributions // 10 or 2))
        if self.big is None:
            self.big = max(self.contributions // 50, min(200, self.contributions // 2))
        self.big = min(self.big, self.contributions)
        self.organisations = self.organisations or max(30, min(5_000, self.contributions // 200))
        self.users = self.users or max(60, min(50_000, self.contributions // 20))


# -- bulk writing -----------------------------------------------------------------------

def _sqlite_value(value):
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%d %H:%M:%S.%f")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, bool):
        return int(value)
    if isinstance(value, (dict, list)):
        return json.dumps(value)
    return value


def _pg_value(value):
    if isinstance(value, (dict, list)):
        return json.dumps(value)
    return value


class BulkWriter:
    """Buffers rows per table and writes them in batches, parents before children (the
    metadata's dependency order), with the fastest path of each database."""

    def __init__(self, engine, metadata):
        self.engine = engine
        self.dialect = engine.dialect.name
        self.order = [t.name for t in metadata.sorted_tables]
        self.tables = metadata.tables
        self.buffers: dict[str, list[dict]] = {}
        self.columns: dict[str, tuple[list[str], dict]] = {}
        self.counts: dict[str, int] = {}
        self.raw = engine.raw_connection()
        if self.dialect == "sqlite":
            cur = self.raw.cursor()
            cur.execute("PRAGMA synchronous=OFF")
            cur.execute("PRAGMA cache_size=-262144")  # 256 MiB: indexes stay in memory while filling
            cur.close()

    def _layout(self, name: str, row: dict):
        """The columns written for a table: those of the row the table has, plus every
        other NOT NULL column without a server default, from its Python default."""
        if name not in self.columns:
            table = self.tables[name]
            names = [c.name for c in table.columns if c.name in row]
            fill = {}
            for column in table.columns:
                if column.name in row or column.server_default is not None or column.nullable:
                    continue
                if column is table.autoincrement_column:  # numbered by the database
                    continue
                default = column.default
                if default is None:
                    raise ValueError(f"benchmark generator: no value for {name}.{column.name}")
                fill[column.name] = default.arg if default.is_scalar else default.arg(None)
            self.columns[name] = (names + list(fill), fill)
        return self.columns[name]

    def add(self, name: str, row: dict) -> None:
        if name not in self.tables:  # an older schema without this table
            return
        self.buffers.setdefault(name, []).append(row)
        if len(self.buffers[name]) >= BATCH:
            self.flush()

    def flush(self) -> None:
        for name in self.order:
            rows = self.buffers.pop(name, None)
            if rows:
                self._write(name, rows)

    def _write(self, name: str, rows: list[dict]) -> None:
        names, fill = self._layout(name, rows[0])
        cur = self.raw.cursor()
        quoted = ", ".join(f'"{n}"' for n in names)
        if self.dialect == "postgresql":
            with cur.copy(f'COPY "{name}" ({quoted}) FROM STDIN') as copy:
                for row in rows:
                    copy.write_row([_pg_value(row[n]) if n in row else fill[n] for n in names])
        else:
            marks = ", ".join("?" for _ in names)
            cur.executemany(
                f'INSERT INTO "{name}" ({quoted}) VALUES ({marks})',
                ([_sqlite_value(row[n]) if n in row else _sqlite_value(fill[n]) for n in names] for row in rows),
            )
        cur.close()
        self.counts[name] = self.counts.get(name, 0) + len(rows)

    def commit(self) -> None:
        self.flush()
        self.raw.commit()

    def close(self) -> None:
        self.raw.close()


def fix_sequences(engine, metadata) -> int:
    """PostgreSQL: set the sequence of every table with a serial id to its largest id
    (rows were inserted with explicit ids, which leave the sequences at 1). Returns the
    number of sequences set."""
    from sqlalchemy import text

    if engine.dialect.name != "postgresql":
        return 0
    done = 0
    with engine.begin() as conn:
        for table in metadata.sorted_tables:
            if "id" not in table.c or len(table.primary_key.columns) != 1:
                continue
            sequence = conn.scalar(text("SELECT pg_get_serial_sequence(:t, 'id')"), {"t": table.name})
            if sequence is None:
                continue
            conn.execute(
                text(f'SELECT setval(:s, COALESCE((SELECT max(id) FROM "{table.name}"), 0) + 1, false)'),
                {"s": sequence},
            )
            done += 1
    return done


def analyse(engine) -> None:
    from sqlalchemy import text

    with engine.connect() as conn:
        if engine.dialect.name == "postgresql":
            conn.execution_options(isolation_level="AUTOCOMMIT").execute(text("ANALYZE"))
        else:
            conn.execute(text("ANALYZE"))
            conn.commit()


# -- the data set -----------------------------------------------------------------------

def _password_hash() -> str:
    from werkzeug.security import generate_password_hash

    return generate_password_hash(PASSWORD)


def _fill(writer: BulkWriter, plan: Plan) -> dict:
    rng = random.Random(plan.seed)
    categories = list(CATEGORY_WEIGHTS)
    weights = list(CATEGORY_WEIGHTS.values())
    base = datetime(2025, 1, 6, 9, 0)
    add = writer.add

    # Organisations: every category, administrations at every level.
    orgs = []
    for i in range(1, plan.organisations + 1):
        category = categories[(i - 1) % len(categories)] if i <= len(categories) * 4 else rng.choices(categories, weights)[0]
        level = LEVELS[i % len(LEVELS)] if category == "public_administration" else None
        orgs.append((i, category, level))
        add("organisations", dict(id=i, name=f"Organisation {i} ({category.replace('_', ' ')})", category=category,
                                  governance_level=level, created_at=base))
    ngo = next(o for o in orgs if o[1] == "ngo")

    # Users: four known accounts, organisers and reviewers, members and individuals.
    password_hash = _password_hash()
    users = {}  # id -> (organisation tuple or None, category, level)
    organisers, members = [2], []
    for i in range(1, plan.users + 1):
        if i in SPECIAL_USERS:
            email, name, role = SPECIAL_USERS[i]
            org = ngo if i == 4 else None
        else:
            email, name = f"user{i}@bench.example", f"Person {i}"
            role = "organiser" if i % 97 == 0 else "reviewer" if i % 199 == 0 else "participant"
            org = orgs[rng.randrange(len(orgs))] if rng.random() < 0.75 else None
        individual = rng.choice([c for c in categories if c != "public_administration"])
        if org is None:
            users[i] = (None, individual, None)
        else:
            users[i] = (org, org[1], org[2])
        if role == "organiser" and i != 2:
            organisers.append(i)
        if role == "participant" and i != 4:
            members.append(i)
        add("users", dict(
            id=i, email=email, display_name=name, password_hash=password_hash, role=role,
            organisation_id=org[0] if org else None, individual_category=individual,
            session_token=hashlib.sha256(f"{plan.seed}-{i}".encode()).hexdigest()[:32],
            created_at=base, email_confirmed_at=base, locale=None,
        ))

    # Consultations: consultation 1 is the large, open one.
    n = plan.consultations
    states = ["open"] + [rng.choices(("draft", "open", "closed", "published"), (2, 20, 38, 40))[0] for _ in range(n - 1)]
    consultations = []
    rt_id = 0
    roundtables = {}  # consultation id -> [roundtable ids]
    facilitator_of = {}
    for cid in range(1, n + 1):
        state = states[cid - 1]
        opens = (base + timedelta(days=(cid * 3) % 600)).date()
        closes = opens + timedelta(days=45)
        language = "es" if cid % 3 else "en"
        accepted = ",".join(sorted({language, "en", "ar"} if cid % 4 == 0 else {language, "en"}))
        premoderation = state == "open" and cid % 10 == 3
        token = hashlib.sha256(f"anon-{plan.seed}-{cid}".encode()).hexdigest()[:32] if cid == 1 or (state == "open" and cid % 3 == 0) else None
        focus = sorted({1 + (cid * 7) % 23, 1 + (cid * 11 + 3) % 23, 16})
        moment = datetime.combine(opens, datetime.min.time())
        consultations.append(dict(id=cid, state=state, opens=opens, premoderation=premoderation, focus=focus))
        add("consultations", dict(
            id=cid, title=f"{'National consultation on' if cid == 1 else 'Consultation ' + str(cid) + ':'} {TOPICS[cid % len(TOPICS)]}",
            kind=KINDS[cid % len(KINDS)], description_md=f"A consultation on **{TOPICS[cid % len(TOPICS)]}**.",
            description_html=f"<p>A consultation on <strong>{TOPICS[cid % len(TOPICS)]}</strong>.</p>",
            territory=("Spain", "Andalusia", "Catalonia", "Madrid", "Valencia")[cid % 5], language=language,
            accepted_languages=accepted, opens_on=opens, closes_on=closes, eligibility="invited" if cid % 25 == 7 else "registered",
            state=state, created_at=moment, updated_at=moment, state_changed_at=moment, premoderation=premoderation,
            anonymous_token=token,
        ))
        for objective in focus:
            add("consultation_objectives", dict(consultation_id=cid, objective=objective))
        organiser = 2 if cid == 1 or cid % 10 == 0 else organisers[cid % len(organisers)]
        add("consultation_organisers", dict(consultation_id=cid, user_id=organiser))
        if cid % 25 == 7:
            for k in range(3):
                add("consultation_invitations", dict(consultation_id=cid, organisation_id=orgs[(cid + k) % len(orgs)][0]))
        tables = []
        for k in range(6 if cid == 1 else plan.roundtables_per_consultation):
            rt_id += 1
            tables.append(rt_id)
            facilitator_of[rt_id] = organiser
            starts = moment + timedelta(days=3 + 7 * k, hours=8)
            taken = 20 + (rt_id % 11)
            add("roundtables", dict(
                id=rt_id, consultation_id=cid, title=f"Table {k + 1}: {TOPICS[(cid + k) % len(TOPICS)]}",
                starts_at=starts, ends_at=starts + timedelta(hours=3), timezone="Europe/Madrid",
                mode=("in_person", "online", "hybrid")[k % 3], place="Town hall", meeting_link="",
                agenda_md="Welcome, three rounds, conclusions.", agenda_html="<p>Welcome, three rounds, conclusions.</p>",
                capacity=40, seats_taken=taken, registration_closes_at=None, minutes_md="", minutes_html="",
                minutes_published_at=None, attendance_recorded_at=starts + timedelta(hours=4) if state != "open" else None,
                created_at=moment,
            ))
            add("roundtable_facilitators", dict(roundtable_id=rt_id, user_id=organiser))
            for objective in focus[:2]:
                add("roundtable_objectives", dict(roundtable_id=rt_id, objective=objective))
            for p in range(taken + 2):
                registrant = members[(rt_id * 31 + p) % len(members)]
                org, category, level = users[registrant]
                add("registrations", dict(
                    roundtable_id=rt_id, registered_by_id=registrant, name=f"Person {registrant}" if p % 5 == 0 else "",
                    show_name=p % 10 == 0, person_key=f"self-{p}", organisation_id=org[0] if org else None,
                    stakeholder_category=category, governance_level=level,
                    status="confirmed" if p < taken else "cancelled", attended=state != "open" and p % 6 != 0,
                    created_at=moment + timedelta(hours=p), cancelled_at=moment + timedelta(days=1) if p >= taken else None,
                ))
            add("walk_ins", dict(roundtable_id=rt_id, stakeholder_category="migrant_association", governance_level=None,
                                 count=1 + rt_id % 4))
        roundtables[cid] = tables

    # Contributions, interleaved across consultations as they arrive.
    per = [plan.big]
    rest = plan.contributions - plan.big
    shares = [0.5 + rng.random() for _ in range(n - 1)]
    total = sum(shares)
    per += [int(rest * s / total) for s in shares]
    per[1] += plan.contributions - sum(per)
    assign = [cid for cid, count in enumerate(per, start=1) for _ in range(count)]
    rng.shuffle(assign)
    challenges: dict[int, list[int]] = {}
    first_table = roundtables[1][0]
    stats = dict(anonymous=0, raised_at_first_table=0, flags=0, answers=0)
    for cid_index, cid in enumerate(assign):
        cid_info = consultations[cid - 1]
        contribution_id = cid_index + 1
        r = rng.random()
        kind = "challenge" if r < 0.4 else "proposal" if r < 0.8 else "good_practice"
        anonymous = rng.random() < 0.04
        author = None if anonymous else members[rng.randrange(len(members))]
        if cid == 1 and not anonymous and contribution_id % 997 == 0:
            author = 4  # the participant's own contributions
        org, category, level = users[author] if author else (None, rng.choices(categories, weights)[0], None)
        if anonymous and category == "public_administration":
            level = LEVELS[contribution_id % 4]
        on_behalf = not anonymous and org is not None and category == "migrant_association" and rng.random() < 0.1
        if cid_info["premoderation"] and rng.random() < 0.2:
            status = "pending"
        else:
            s = rng.random()
            status = "active" if s < 0.95 else "withdrawn" if s < 0.97 else "hidden"
        if cid_info["state"] == "draft":
            status = "active"
        created = datetime.combine(cid_info["opens"], datetime.min.time()) + timedelta(seconds=rng.randrange(45 * 86400))
        if anonymous:
            created = datetime.combine(created.date(), datetime.min.time())
            stats["anonymous"] += 1
        if cid == 1 and rng.random() < 0.12:
            roundtable = first_table
            stats["raised_at_first_table"] += 1
        elif rng.random() < 0.15:
            roundtable = rng.choice(roundtables[cid])
        else:
            roundtable = None
        captured = roundtable is not None and not anonymous and rng.random() < 0.3
        topic = TOPICS[rng.randrange(len(TOPICS))]
        body = " ".join(rng.sample(SENTENCES, 2 + contribution_id % 3))
        add("contributions", dict(
            id=contribution_id, consultation_id=cid, kind=kind,
            title=f"{('Challenge', 'Proposal', 'Good practice')[('challenge', 'proposal', 'good_practice').index(kind)]} on {topic} #{contribution_id}",
            body_md=body, body_html=f"<p>{body}</p>", language="en" if contribution_id % 5 == 0 else ("es" if cid % 3 else "en"),
            author_id=facilitator_of[roundtable] if captured else author,
            organisation_id=org[0] if org else None, organisation_name=f"Organisation {org[0]} ({org[1].replace('_', ' ')})" if org else None,
            stakeholder_category=category, governance_level=level, name_organisation=org is not None and contribution_id % 2 == 0,
            status=status, roundtable_id=roundtable, captured=captured,
            addressed_at=created + timedelta(days=30) if kind == "challenge" and cid_info["state"] in ("closed", "published") and contribution_id % 20 == 0 else None,
            addressed_note="Included in the regional plan." if kind == "challenge" and contribution_id % 20 == 0 else "",
            anonymous=anonymous, edit_code_hash=hashlib.sha256(str(contribution_id).encode()).hexdigest() if anonymous else None,
            on_behalf=on_behalf, on_behalf_note="Collected at our weekly meeting" if on_behalf else "",
            moderation_note="Personal data" if status == "hidden" else "", submission_key=None,
            created_at=created, updated_at=created,
        ))
        first = cid_info["focus"][contribution_id % len(cid_info["focus"])] if rng.random() < 0.6 else rng.randint(1, 23)
        objectives = {first}
        for _ in range(contribution_id % 3):
            objectives.add(rng.randint(1, 23))
        for objective in objectives:
            add("contribution_objectives", dict(contribution_id=contribution_id, objective=objective))
        for principle in rng.sample(PRINCIPLES, contribution_id % 3):
            add("contribution_principles", dict(contribution_id=contribution_id, principle=principle))
        recent = challenges.setdefault(cid, [])
        if kind == "challenge" and status == "active":
            recent.append(contribution_id)
            if len(recent) > 40:
                del recent[:20]
        elif kind == "proposal" and recent and rng.random() < 0.7:
            for challenge in set(rng.sample(recent, min(len(recent), 1 + contribution_id % 2))):
                add("proposal_answers", dict(proposal_id=contribution_id, challenge_id=challenge))
                stats["answers"] += 1
        if rng.random() < 0.005:
            stats["flags"] += 1
            add("flags", dict(id=stats["flags"], contribution_id=contribution_id, reason="Offensive wording",
                              reporter_id=members[contribution_id % len(members)], created_on=created.date(),
                              resolved=stats["flags"] % 2 == 0))
        if cid == 1 and kind == "challenge" and status == "active" and roundtable == first_table and stats.get("carried", 0) < 50:
            stats["carried"] = stats.get("carried", 0) + 1
            add("challenge_discussions", dict(id=stats["carried"], contribution_id=contribution_id,
                                              roundtable_id=roundtables[1][1], created_at=created))

    # Summaries of every visible consultation (their revision says they were edited).
    summary_id = 0
    for info in consultations:
        if info["state"] == "draft":
            continue
        summary_id += 1
        moment = datetime.combine(info["opens"], datetime.min.time())
        add("summaries", dict(id=summary_id, consultation_id=info["id"], title="", created_by_id=None, privacy_threshold=3,
                              migrant_min_percent=25, dominance_max_percent=50, revision=1 if info["id"] % 2 else 0,
                              created_at=moment, updated_at=moment))
        if info["id"] % 2:
            add("summary_sections", dict(summary_id=summary_id, key="1", text_md="Participants stressed access to information.",
                                         text_html="<p>Participants stressed access to information.</p>", objectives_override=None))
    writer.commit()
    stats.update(consultations=n, big=plan.big, contributions=plan.contributions, users=plan.users,
                 organisations=plan.organisations, roundtables=rt_id, summaries=summary_id,
                 published=[c["id"] for c in consultations if c["state"] == "published"],
                 closed=[c["id"] for c in consultations if c["state"] == "closed"])
    return stats


def _publish_some(plan: Plan, stats: dict) -> None:
    """A few published versions and a saved national summary, through the real services
    (so their frozen documents are what Mesa would have written)."""
    from sqlalchemy import select

    from consultations.accounts.models import User
    from consultations.consultations.models import Consultation
    from consultations.extensions import db
    from consultations.summaries import services

    organiser = db.session.get(User, 2)
    reviewer = db.session.get(User, 3)
    # The smallest published consultations organised by the known organiser.
    candidates = [cid for cid in stats["published"] if cid % 10 == 0][: plan.published_versions]
    for cid in candidates:
        consultation = db.session.get(Consultation, cid)
        summary = services.summary_for(consultation)
        services.publish(consultation, organiser, seen_revision=summary.revision, note="Benchmark")
        db.session.commit()
    stats["published_versions"] = candidates
    if hasattr(services, "create_national"):
        ids = list(db.session.scalars(
            select(Consultation.id).where(Consultation.state.in_(("closed", "published"))).order_by(Consultation.id).limit(50)
        ))
        national = services.create_national(reviewer, title="National compilation (benchmark)", consultation_ids=ids)
        db.session.commit()
        stats["national_summary"] = national.id
        stats["national_consultations"] = ids


def generate(url: str, contributions: int, consultations: int = 500, big: int | None = None, seed: int = 2024,
             quiet: bool = False) -> dict:
    """Migrate the (empty) database at ``url`` and fill it; returns what was made."""
    from flask_migrate import upgrade

    from consultations import create_app
    from consultations.config import normalise_database_url
    from consultations.extensions import db

    plan = Plan(contributions=contributions, consultations=consultations, big=big, seed=seed)
    url = normalise_database_url(url)
    os.environ.setdefault("MESA_INSTANCE_PATH", tempfile.mkdtemp(prefix="mesa-bench-instance-"))
    app = create_app({"SQLALCHEMY_DATABASE_URI": url, "SECRET_KEY": "benchmark", "TESTING": True,
                      "MESA_WORD_PAGE_NUMBERS": False})
    say = (lambda *a: None) if quiet else (lambda *a: print(*a, file=sys.stderr, flush=True))
    with app.app_context():
        start = time.perf_counter()
        upgrade()
        say(f"migrated in {time.perf_counter() - start:.1f} s")
        start = time.perf_counter()
        writer = BulkWriter(db.engine, db.metadata)
        try:
            stats = _fill(writer, plan)
        finally:
            writer.close()
        stats["rows"] = dict(writer.counts)
        say(f"wrote {sum(writer.counts.values()):,} rows in {time.perf_counter() - start:.1f} s")
        stats["sequences"] = fix_sequences(db.engine, db.metadata)
        start = time.perf_counter()
        analyse(db.engine)
        say(f"analysed in {time.perf_counter() - start:.1f} s")
        start = time.perf_counter()
        _publish_some(plan, stats)
        say(f"published {len(stats['published_versions'])} versions and a national summary in {time.perf_counter() - start:.1f} s")
        db.session.remove()
        db.engine.dispose()
    stats["url"] = url
    return stats


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("url", help="sqlite:///path or postgresql://user:pw@host/db (empty or new)")
    parser.add_argument("-n", "--contributions", type=int, default=10_000)
    parser.add_argument("-m", "--consultations", type=int, default=500)
    parser.add_argument("--big", type=int, default=None, help="contributions of the large consultation (default 2%%)")
    parser.add_argument("--seed", type=int, default=2024)
    parser.add_argument("--stats", help="write what was made (ids included) to this JSON file")
    args = parser.parse_args(argv)
    stats = generate(args.url, args.contributions, args.consultations, args.big, args.seed)
    if args.stats:
        Path(args.stats).write_text(json.dumps(stats))
    print(json.dumps({k: v for k, v in stats.items() if k not in ("published", "closed", "national_consultations")}, indent=2))


if __name__ == "__main__":
    main()
