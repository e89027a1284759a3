"""Benchmark of the summaries (issue 4).

Fills a database with 100,000 contributions over 50 consultations (one of them with
5,000), then prints:

- the time to compile the national summary over all 50 consultations (every statistic,
  the comparison and the questionnaire sections: what the page and every download start
  from);
- the time of one raw SQL ``GROUP BY objective`` count over the same tables (the floor),
  and the ratio between the two;
- the time and the peak memory of each download: CSV, JSON, Markdown and XLSX of the
  national compilation (100,000 contributions), and Word and PDF of the
  5,000-contribution consultation (plus CSV of it, to show that CSV memory does not grow
  with the size).

Usage (from the repository root):

    .venv/bin/python benchmarks/summaries_benchmark.py                      # SQLite (temporary file)
    DATABASE_URL=postgresql://user:pw@host/empty_db .venv/bin/python benchmarks/summaries_benchmark.py

The PostgreSQL database must be empty (or disposable): the script creates the schema
with the migrations and fills it. Options: --contributions N, --consultations N,
--big N (size of the largest consultation), --skip-pdf.

Peak memory is measured in a forked child per download: its peak resident set size
minus its size when it started, so each figure is what that download added. A large PDF
is laid out partly in worker processes (see exports.to_pdf): the peak resident set size
of the largest of them is shown apart.
"""
from __future__ import annotations

import argparse
import os
import platform
import random
import resource
import statistics
import sys
import tempfile
import time
from datetime import date, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))


def _fill(db, n_contributions: int, n_consultations: int, big: int) -> list[int]:
    from sqlalchemy import insert

    from consultations.consultations.models import Consultation, ConsultationObjective
    from consultations.contributions.models import Contribution, ContributionObjective
    from consultations.reference import STAKEHOLDER_CATEGORIES
    from consultations.roundtables.models import Registration, Roundtable, WalkIn

    rng = random.Random(2024)
    categories = list(STAKEHOLDER_CATEGORIES)
    weights = [8, 2, 30, 8, 6, 6, 4, 30, 6]
    now = datetime(2024, 3, 1)
    conn = db.session.connection()
    consultation_rows = [
        dict(
            id=i + 1,
            title=f"Benchmark consultation {i + 1}",
            kind="civil_society_day",
            description_md="",
            description_html="",
            territory="Spain",
            language="en",
            opens_on=date(2024, 1, 1) + timedelta(days=i),
            closes_on=date(2024, 1, 2) + timedelta(days=i),
            eligibility="registered",
            state="closed",
            created_at=now,
            updated_at=now,
            state_changed_at=now,
        )
        for i in range(n_consultations)
    ]
    conn.execute(insert(Consultation), consultation_rows)
    conn.execute(
        insert(ConsultationObjective),
        [dict(consultation_id=c["id"], objective=o) for c in consultation_rows for o in (1, 8, 16)],
    )
    roundtables = []
    for c in consultation_rows:
        for k in range(2):
            roundtables.append(
                dict(
                    id=len(roundtables) + 1,
                    consultation_id=c["id"],
                    title=f"Table {k + 1}",
                    starts_at=now + timedelta(hours=k),
                    ends_at=now + timedelta(hours=k + 1),
                    timezone="Europe/Madrid",
                    mode="in_person",
                    place="",
                    meeting_link="",
                    agenda_md="",
                    agenda_html="",
                    seats_taken=0,
                    minutes_md="",
                    minutes_html="",
                    created_at=now,
                )
            )
    conn.execute(insert(Roundtable), roundtables)
    registrations = []
    for rt in roundtables:
        for p in range(30):
            registrations.append(
                dict(
                    roundtable_id=rt["id"],
                    name="",
                    show_name=False,
                    person_key=f"p{rt['id']}-{p}",
                    stakeholder_category=rng.choices(categories, weights)[0],
                    status="confirmed",
                    attended=rng.random() < 0.8,
                    created_at=now,
                )
            )
    conn.execute(insert(Registration), registrations)
    conn.execute(
        insert(WalkIn),
        [dict(roundtable_id=rt["id"], stakeholder_category="migrant_association", count=3) for rt in roundtables],
    )

    # Consultation 1 gets `big` contributions, the others share the rest.
    per = [big] + [(n_contributions - big) // (n_consultations - 1)] * (n_consultations - 1)
    per[-1] += n_contributions - sum(per)
    kinds = ("challenge", "proposal", "good_practice")
    next_id = 1
    batch, objectives = [], []
    for consultation_id, count in enumerate(per, start=1):
        for _ in range(count):
            category = rng.choices(categories, weights)[0]
            title = f"Contribution {next_id} on reception, work and inclusion"
            body = "Migrants face long procedures and need plain information in their language. " * 2
            batch.append(
                dict(
                    id=next_id,
                    consultation_id=consultation_id,
                    kind=kinds[next_id % 3],
                    title=title,
                    body_md=body,
                    body_html=f"<p>{body}</p>",
                    organisation_name=f"Organisation {next_id % 500}",
                    stakeholder_category=category,
                    governance_level="regional" if category == "public_administration" else None,
                    name_organisation=next_id % 2 == 0,
                    status="active" if next_id % 50 else "withdrawn",
                    roundtable_id=(consultation_id - 1) * 2 + 1 if next_id % 4 == 0 else None,
                    captured=False,
                    addressed_note="",
                    created_at=now,
                    updated_at=now,
                )
            )
            first = rng.randint(1, 23)
            objectives.append(dict(contribution_id=next_id, objective=first))
            if next_id % 2:
                second = rng.randint(1, 23)
                if second != first:
                    objectives.append(dict(contribution_id=next_id, objective=second))
            next_id += 1
            if len(batch) >= 5000:
                conn.execute(insert(Contribution), batch)
                conn.execute(insert(ContributionObjective), objectives)
                batch, objectives = [], []
    if batch:
        conn.execute(insert(Contribution), batch)
        conn.execute(insert(ContributionObjective), objectives)
    db.session.commit()
    if db.engine.dialect.name == "postgresql":
        from sqlalchemy import text

        with db.engine.connect() as c:
            c.execution_options(isolation_level="AUTOCOMMIT").execute(text("ANALYZE"))
    else:
        from sqlalchemy import text

        db.session.execute(text("ANALYZE"))
        db.session.commit()
    return [c["id"] for c in consultation_rows]


def _median_time(fn, repeat: int = 3) -> float:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def _in_child(app, job):
    """Run ``job`` in a forked child; return (seconds, peak MiB added, bytes produced,
    peak MiB of its largest worker process)."""
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:  # child
        os.close(read)
        try:
            from consultations.extensions import db

            with app.test_request_context():
                db.engine.dispose(close=False)
                before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
                start = time.perf_counter()
                size = job()
                seconds = time.perf_counter() - start
                peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
                workers = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
            os.write(write, f"{seconds} {(peak - before) / 1024} {size} {workers / 1024}".encode())
        except BaseException as exc:  # noqa: BLE001
            os.write(write, f"error {exc!r}".encode())
        finally:
            os._exit(0)
    os.close(write)
    with os.fdopen(read) as fh:
        out = fh.read()
    os.waitpid(pid, 0)
    if out.startswith("error"):
        raise RuntimeError(out)
    seconds, mib, size, workers = out.split()
    return float(seconds), float(mib), int(size), float(workers)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--contributions", type=int, default=100_000)
    parser.add_argument("--consultations", type=int, default=50)
    parser.add_argument("--big", type=int, default=5_000)
    parser.add_argument("--skip-pdf", action="store_true")
    args = parser.parse_args()

    url = os.environ.get("DATABASE_URL")
    tmp = None
    if not url:
        tmp = tempfile.TemporaryDirectory()
        url = "sqlite:///" + os.path.join(tmp.name, "bench.sqlite3")
    from consultations import create_app
    from consultations.config import normalise_database_url

    url = normalise_database_url(url)
    instance = tempfile.mkdtemp()
    os.environ.setdefault("MESA_INSTANCE_PATH", instance)
    app = create_app({"SQLALCHEMY_DATABASE_URI": url, "SECRET_KEY": "benchmark", "TESTING": True})

    from sqlalchemy import func, select

    from consultations.consultations.models import Consultation
    from consultations.contributions.models import Contribution, ContributionObjective
    from consultations.extensions import db
    from consultations.summaries import exports, services
    from consultations.summaries.charts import charts_for

    with app.app_context():
        from flask_migrate import upgrade

        upgrade()
        dialect = db.engine.dialect.name
        print(f"# Mesa summaries benchmark — {dialect}")
        print(f"machine: {platform.platform()}, Python {platform.python_version()}, {os.cpu_count()} CPUs")
        start = time.perf_counter()
        ids = _fill(db, args.contributions, args.consultations, args.big)
        print(f"filled {args.contributions:,} contributions over {args.consultations} consultations "
              f"(largest: {args.big:,}) in {time.perf_counter() - start:.1f} s")

        consultations = list(db.session.scalars(select(Consultation).where(Consultation.id.in_(ids))))
        big = next(c for c in consultations if c.id == 1)

        def raw():
            stmt = (
                select(ContributionObjective.objective, func.count())
                .join(Contribution, Contribution.id == ContributionObjective.contribution_id)
                .where(Contribution.consultation_id.in_(ids), Contribution.status == "active")
                .group_by(ContributionObjective.objective)
            )
            return db.session.execute(stmt).all()

        def compile_all():
            return services.compile_national(consultations).meta

        raw()
        compile_all()  # warm caches
        t_raw = _median_time(raw, 5)
        t_compile = _median_time(compile_all, 3)
        print()
        print("| measure | time |")
        print("|---|---|")
        print(f"| compile the national summary over {len(ids)} consultations | {t_compile * 1000:.0f} ms |")
        print(f"| raw SQL `GROUP BY objective` count (the floor) | {t_raw * 1000:.0f} ms |")
        print(f"| ratio | {t_compile / t_raw:.1f}x |")
        print()

        def national_job(fmt):
            def job():
                compiled = services.compile_national(consultations)
                return _consume(compiled, fmt)

            return job

        def big_job(fmt):
            def job():
                compiled = services.compile_for_viewer(big, None)
                return _consume(compiled, fmt)

            return job

        def _consume(compiled, fmt):
            if fmt == "csv":
                return sum(len(chunk) for chunk in exports.csv_chunks(compiled))
            if fmt == "json":
                return sum(len(chunk) for chunk in exports.json_chunks(compiled))
            if fmt == "md":
                return sum(len(chunk) for chunk in exports.markdown_chunks(compiled))
            if fmt == "xlsx":
                return len(exports.to_xlsx(compiled))
            charts = charts_for(compiled.meta)
            if fmt == "docx":
                return len(exports.to_docx(compiled, charts))
            return len(exports.to_pdf(compiled, charts))

        db.session.remove()
        jobs = [
            (f"CSV, national ({args.contributions:,})", national_job("csv")),
            (f"JSON, national ({args.contributions:,})", national_job("json")),
            (f"Markdown, national ({args.contributions:,})", national_job("md")),
            (f"XLSX, national ({args.contributions:,})", national_job("xlsx")),
            (f"CSV, one consultation ({args.big:,})", big_job("csv")),
            (f"Word, one consultation ({args.big:,})", big_job("docx")),
        ]
        if not args.skip_pdf:
            jobs.append((f"PDF, one consultation ({args.big:,})", big_job("pdf")))
        print("| download | time | peak memory added | size |")
        print("|---|---|---|---|")
        for label, job in jobs:
            seconds, mib, size, workers = _in_child(app, job)
            memory = f"{mib:.0f} MiB" + (f" (+ {workers:.0f} MiB, largest worker)" if workers else "")
            print(f"| {label} | {seconds:.1f} s | {memory} | {size / 1_048_576:.1f} MiB |", flush=True)
    if tmp:
        tmp.cleanup()


if __name__ == "__main__":
    main()
