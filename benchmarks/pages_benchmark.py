"""Page benchmark (issue 14): every main page at 10k, 100k and 1M contributions, on SQLite
and PostgreSQL in one run.

    .venv/bin/python benchmarks/pages_benchmark.py                                  # 10k, 100k, 1M; both databases
    .venv/bin/python benchmarks/pages_benchmark.py --sizes 10000,100000 --databases sqlite
    PYTHONPATH=/tmp/mesa-before .venv/bin/python benchmarks/pages_benchmark.py --data-dir /tmp/mesa-bench/before

For each database and size it generates a data set with benchmarks/generate.py (500
consultations, consultation 1 the large one; kept in --data-dir and on the PostgreSQL
server as ``mesa_pages_<size>``, reused by later runs when it has the same size and
seed, then migrated to the current head), then requests every page through the app's
test client, logged in as the person who may see it: one request to warm up, then the
median of --repeat requests, and the number of SQL statements of one request. It prints
a Markdown table: each page's time, its ratio to its own time at the smallest size (the
target is at most 2x) and to the home page at the same size, and its query count (the
target: the same at every size).

Timings are the app's own (no network, no server); run on an otherwise idle machine.
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
if str(HERE) not in sys.path:
    sys.path.insert(0, str(HERE))

import generate  # noqa: E402  (benchmarks/generate.py)

DEFAULT_PG = "postgresql://postgres:postgres@127.0.0.1:5432/postgres"


def _label(n: int) -> str:
    return f"{n // 1_000_000}M" if n >= 1_000_000 and n % 1_000_000 == 0 else f"{n // 1000}k" if n % 1000 == 0 else str(n)


# -- the databases ---------------------------------------------------------------------

def _pg_url(server: str, name: str) -> str:
    from sqlalchemy.engine import make_url

    from consultations.config import normalise_database_url

    return make_url(normalise_database_url(server)).set(database=name).render_as_string(hide_password=False)


def _marker(n: int, seed: int) -> str:
    return json.dumps({"contributions": n, "seed": seed, "generator": 1})


def database_for(kind: str, n: int, args) -> tuple[str, dict | None]:
    """The URL of a filled database of size ``n``: reused when the marker says it was
    generated with the same size and seed, else (re)generated. Returns (url, stats)."""
    from sqlalchemy import create_engine, text

    data_dir = Path(args.data_dir)
    data_dir.mkdir(parents=True, exist_ok=True)
    marker_file = data_dir / f"{kind}-{_label(n)}.json"
    if kind == "sqlite":
        path = data_dir / f"pages-{_label(n)}.sqlite3"
        url = f"sqlite:///{path}"
        exists = path.exists()
    else:
        name = f"{args.pg_prefix}_{_label(n).lower()}"
        url = _pg_url(args.pg_server, name)
        admin = create_engine(_pg_url(args.pg_server, "postgres"), isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            exists = bool(conn.scalar(text("SELECT 1 FROM pg_database WHERE datname = :n"), {"n": name}))
    if exists and marker_file.exists() and marker_file.read_text().split("\n")[0] == _marker(n, args.seed) and not args.regenerate:
        return url, json.loads(marker_file.read_text().split("\n", 1)[1])
    if kind == "sqlite":
        for suffix in ("", "-wal", "-shm"):
            Path(str(path) + suffix).unlink(missing_ok=True)
    else:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            conn.execute(text(f'CREATE DATABASE "{name}"'))
        admin.dispose()
    print(f"generating {n:,} contributions on {kind} ...", file=sys.stderr, flush=True)
    start = time.perf_counter()
    # In a child process: the generator's app and engine go away with it.
    subprocess.run(
        [sys.executable, str(HERE / "generate.py"), url, "-n", str(n), "-m", str(args.consultations),
         "--seed", str(args.seed), "--stats", str(marker_file) + ".tmp"],
        check=True, stdout=subprocess.DEVNULL,
    )
    stats = json.loads(Path(str(marker_file) + ".tmp").read_text())
    stats["seconds"] = round(time.perf_counter() - start, 1)
    marker_file.write_text(_marker(n, args.seed) + "\n" + json.dumps(stats))
    Path(str(marker_file) + ".tmp").unlink()
    return url, stats


# -- the pages -------------------------------------------------------------------------

def pages(app, stats: dict) -> list[tuple[str, str, str | None]]:
    """(name, URL, who is logged in) of every page measured."""
    from sqlalchemy import func, select

    from consultations.consultations.models import VISIBLE_STATES, Consultation
    from consultations.contributions.models import Contribution, proposal_answers
    from consultations.extensions import db

    with app.app_context():
        visible = db.session.scalar(
            select(func.count()).select_from(Contribution).where(Contribution.consultation_id == 1, Contribution.status == "active")
        )
        on_eight = db.session.scalar(
            select(func.count()).select_from(Contribution).join(Contribution.consultation).where(
                Contribution.status == "active", Consultation.state.in_(VISIBLE_STATES),
                Contribution.objectives.any(objective=8))
        )
        proposal = db.session.scalar(
            select(func.min(proposal_answers.c.proposal_id)).join(Contribution, Contribution.id == proposal_answers.c.proposal_id)
            .where(Contribution.consultation_id == 1, Contribution.status == "active")
        )
        db.session.remove()
    deep = max(1, visible // 20 - 1)
    deep_objective = max(1, on_eight // 40)  # half-way down
    national = "&".join(f"c={c}" for c in stats.get("national_consultations", [])[:50])
    out = [
        ("home", "/", None),
        ("consultation", "/consultations/1", None),
        ("filtered list", "/consultations/1?kind=proposal&objective=8", None),
        (f"deep page ({deep})", f"/consultations/1?page={deep}", None),
        ("objective page", "/objectives/8", None),
        (f"objective deep page ({deep_objective})", f"/objectives/8?page={deep_objective}", None),
        ("objectives index", "/objectives/", None),
        ("roundtable", "/roundtables/1", None),
        ("contribution", f"/contributions/{proposal}", None),
        ("live summary", "/consultations/1/summary", "organiser"),
        ("national summary (50)", f"/summaries/national?{national}", "reviewer"),
        ("moderation queue", "/consultations/1/moderation", "organiser"),
        ("contribute form", "/consultations/1/contribute", "participant"),
    ]
    if stats.get("national_summary"):
        out.append(("saved national summary", f"/summaries/national/{stats['national_summary']}", "reviewer"))
    for cid in stats.get("published_versions", [])[:1]:
        out.append(("published version", f"/consultations/{cid}/summary/versions/1", None))
    return out


class Counter:
    def __init__(self, engine):
        self.engine, self.count = engine, 0

    def __enter__(self):
        from sqlalchemy import event

        event.listen(self.engine, "before_cursor_execute", self._one)
        return self

    def __exit__(self, *exc):
        from sqlalchemy import event

        event.remove(self.engine, "before_cursor_execute", self._one)

    def _one(self, *args):
        self.count += 1


def measure(url: str, stats: dict, repeat: int) -> dict[str, dict]:
    from flask_migrate import upgrade

    from consultations import create_app
    from consultations.extensions import db

    app = create_app({
        "SQLALCHEMY_DATABASE_URI": url, "SECRET_KEY": "benchmark", "WTF_CSRF_ENABLED": False,
        "RATELIMIT_ENABLED": False, "MESA_WORD_PAGE_NUMBERS": False,
    })
    with app.app_context():
        upgrade()  # a reused database follows the migrations added since
        db.engine.dispose()
    clients = {}
    for who in ("organiser", "reviewer", "participant"):
        client = app.test_client()
        response = client.post("/login", data={"email": f"{who}@bench.example", "password": generate.PASSWORD})
        if response.status_code != 302:
            raise RuntimeError(f"could not log in as {who}: {response.status_code}")
        clients[who] = client
    clients[None] = app.test_client()
    clients[None].get("/healthz")  # the first request of a process checks the schema version
    results = {}
    for name, path, who in pages(app, stats):
        client = clients[who]
        response = client.get(path)
        status, size = response.status_code, len(response.data)
        with app.app_context():
            with Counter(db.engine) as counter:
                client.get(path)
        times = []
        for _ in range(repeat):
            start = time.perf_counter()
            client.get(path).close()
            times.append(time.perf_counter() - start)
        results[name] = dict(path=path, ms=statistics.median(times) * 1000, queries=counter.count, status=status, kib=size / 1024)
        print(f"  {name}: {results[name]['ms']:.0f} ms, {counter.count} queries, {status}, {size / 1024:.0f} KiB",
              file=sys.stderr, flush=True)
    with app.app_context():
        db.engine.dispose()
    return results


# -- the report ------------------------------------------------------------------------

def _base_name(name: str) -> str:
    return name.split(" (")[0] if "deep page" in name else name


def report(all_results: dict, sizes: list[int]) -> str:
    lines = []
    for kind, by_size in all_results.items():
        smallest = sizes[0]
        head = ["page"]
        for n in sizes:
            head += [f"{_label(n)} ms", "q"] + ([f"x{_label(smallest)}"] if n != smallest else []) + ["x home"]
        lines.append(f"\n### {kind}\n")
        lines.append("| " + " | ".join(head) + " |")
        lines.append("|" + "---|" * len(head))
        names = [_base_name(n) for n in by_size[smallest]]
        for base in names:
            row = [base]
            first = None
            for n in sizes:
                results = {_base_name(k): v for k, v in by_size.get(n, {}).items()}
                r = results.get(base)
                if r is None:
                    row += ["-"] * (4 if n != smallest else 3)
                    continue
                home = results["home"]["ms"]
                flag = "" if r["status"] == 200 else f" ({r['status']})"
                row += [f"{r['ms']:.0f}{flag}", str(r["queries"])]
                if n == smallest:
                    first = r["ms"]
                else:
                    ratio = r["ms"] / first if first else float("nan")
                    row.append(f"**{ratio:.1f}**" if ratio > 2 else f"{ratio:.1f}")
                row.append(f"{r['ms'] / home:.1f}")
            lines.append("| " + " | ".join(row) + " |")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sizes", default="10000,100000,1000000", help="contributions, comma-separated")
    parser.add_argument("--databases", default="sqlite,postgresql")
    parser.add_argument("--consultations", type=int, default=500)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--seed", type=int, default=2024)
    parser.add_argument("--data-dir", default="/tmp/mesa-bench")
    parser.add_argument("--pg-server", default=os.environ.get("MESA_BENCH_PG", DEFAULT_PG))
    parser.add_argument("--pg-prefix", default="mesa_pages", help="PostgreSQL databases: <prefix>_10k, ...")
    parser.add_argument("--regenerate", action="store_true", help="regenerate even when a database can be reused")
    parser.add_argument("--json", help="also write the results to this file")
    args = parser.parse_args()
    sizes = sorted(int(s) for s in args.sizes.split(","))
    kinds = [k.strip() for k in args.databases.split(",")]
    import consultations

    commit = subprocess.run(["git", "-C", str(Path(consultations.__file__).parent), "rev-parse", "--short", "HEAD"],
                            capture_output=True, text=True).stdout.strip()
    dirty = subprocess.run(["git", "-C", str(Path(consultations.__file__).parent), "status", "--porcelain", "--untracked-files=no"],
                           capture_output=True, text=True).stdout.strip()
    print(f"# Mesa page benchmark: code {Path(consultations.__file__).parent.parent} at {commit}{' (+ uncommitted changes)' if dirty else ''}")
    print(f"machine: {platform.platform()}, Python {platform.python_version()}, {os.cpu_count()} CPUs; "
          f"median of {args.repeat} requests through the test client")
    all_results: dict = {}
    generated = []
    for kind in kinds:
        all_results[kind] = {}
        for n in sizes:
            url, stats = database_for(kind, n, args)
            generated.append(f"{kind} {_label(n)}: generated in {stats.get('seconds', '?')} s")
            print(f"measuring {kind} at {n:,} ...", file=sys.stderr, flush=True)
            all_results[kind][n] = measure(url, stats, args.repeat)
    print("\n".join(generated))
    print(report(all_results, sizes))
    if args.json:
        Path(args.json).write_text(json.dumps({"commit": commit, "dirty": bool(dirty), "results": {
            k: {str(n): v for n, v in by.items()} for k, by in all_results.items()}}, indent=1))


if __name__ == "__main__":
    main()
