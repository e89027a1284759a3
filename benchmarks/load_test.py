"""Load test (issue 14): 50 concurrent clients for 30 s on each main page, with ``hey``
(Debian package ``hey``), against one or more checkouts of Mesa side by side.

    .venv/bin/python benchmarks/load_test.py \\
        --side before=/tmp/mesa-before:sqlite:////tmp/mesa-bench/before/pages-100k.sqlite3 \\
        --side after=/work/main:sqlite:////tmp/mesa-bench/pages-100k.sqlite3

Each side is ``name=checkout:database URL``; the database was filled by
benchmarks/generate.py (pages_benchmark.py keeps its databases) with that checkout's
migrations. For every page, and for every side in turn, a fresh gunicorn is started from
the checkout with its gunicorn.conf.py and 2 sync workers on 127.0.0.1 (the documented
set-up), the people who may see the page log in, ``hey -c 50 -z 30s`` runs, and the
server is stopped (so work a page left behind cannot slow the next one). Printed: a
Markdown table with requests per second, p50, p95, and errors (non-200 answers plus
requests that got no answer within hey's 20 s timeout) of each side, next to each other.
"""
from __future__ import annotations

import argparse
import http.cookiejar
import os
import re
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.parse
import urllib.request
from pathlib import Path

PASSWORD = "benchmark password"
PAGES = [
    ("home", "/", None),
    ("consultation", "/consultations/1", None),
    ("filtered list", "/consultations/1?kind=proposal&objective=8", None),
    ("objective page", "/objectives/8", None),
    ("objectives index", "/objectives/", None),
    ("roundtable", "/roundtables/1", None),
    ("contribution", "/contributions/{proposal}", None),
    ("contribute form", "/consultations/1/contribute", "participant"),
    ("live summary", "/consultations/1/summary", "organiser"),
]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _wait(port: int, seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=5) as r:
                if r.status == 200:
                    return
        except OSError:
            time.sleep(0.5)
    raise RuntimeError(f"gunicorn on {port} did not answer /healthz")


def _env(checkout: str, url: str) -> dict:
    return dict(os.environ, PYTHONPATH=checkout, DATABASE_URL=url, SECRET_KEY="load-test",
                MESA_INSTANCE_PATH=tempfile.mkdtemp(prefix="mesa-load-"), MESA_RATELIMIT_ENABLED="0")


def upgrade(checkout: str, url: str, log) -> None:
    """Bring the database to the checkout's latest migration (others may have been added
    since it was generated; the app refuses to serve an outdated schema)."""
    code = ("from flask_migrate import upgrade; from consultations import create_app; app = create_app();"
            "ctx = app.app_context(); ctx.push(); upgrade()")
    subprocess.run([sys.executable, "-c", code], cwd=checkout, env=_env(checkout, url), stdout=log, stderr=log, check=True)


def start(checkout: str, url: str, port: int, workers: int, log) -> subprocess.Popen:
    env = _env(checkout, url)
    gunicorn = str(Path(sys.executable).with_name("gunicorn"))
    return subprocess.Popen(
        [gunicorn, "-c", "gunicorn.conf.py", "-w", str(workers), "-b", f"127.0.0.1:{port}", "app:app"],
        cwd=checkout, env=env, stdout=log, stderr=log, start_new_session=True,
    )


def stop(server: subprocess.Popen) -> None:
    server.send_signal(signal.SIGTERM)
    try:
        server.wait(25)
    except subprocess.TimeoutExpired:
        os.killpg(server.pid, signal.SIGKILL)
        server.wait()


def login(port: int, who: str) -> str:
    """The Cookie header of a session of ``who``@bench.example."""
    jar = http.cookiejar.CookieJar()
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
    html = opener.open(f"http://127.0.0.1:{port}/login", timeout=30).read().decode()
    token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', html) or re.search(r'value="([^"]+)"[^>]*name="csrf_token"', html)
    data = urllib.parse.urlencode({"email": f"{who}@bench.example", "password": PASSWORD,
                                   "csrf_token": token.group(1) if token else ""}).encode()
    opener.open(f"http://127.0.0.1:{port}/login", data=data, timeout=30).read()
    cookie = "; ".join(f"{c.name}={c.value}" for c in jar)
    if "remember_token" not in cookie and "session" not in cookie:
        raise RuntimeError(f"no session for {who}")
    return cookie


def run_hey(port: int, path: str, cookie: str | None, clients: int, duration: int) -> dict:
    command = ["hey", "-c", str(clients), "-z", f"{duration}s", "-t", "20", "-disable-redirects"]
    if cookie:
        command += ["-H", f"Cookie: {cookie}"]
    out = subprocess.run(command + [f"http://127.0.0.1:{port}{path}"], capture_output=True, text=True,
                         timeout=duration + 60).stdout
    statuses = {int(code): int(count) for code, count in re.findall(r"\[(\d{3})\]\s+(\d+) responses", out)}
    errors = sum(int(n) for n in re.findall(r"^\s+\[(\d+)\]\s+Get", out, re.M))
    p50 = re.search(r"50%+ in ([\d.]+) secs", out)
    p95 = re.search(r"95%+ in ([\d.]+) secs", out)
    rps = re.search(r"Requests/sec:\s+([\d.]+)", out)
    ok = statuses.get(200, 0)
    return dict(ok=ok, failed=sum(statuses.values()) - ok + errors, rps=float(rps.group(1)) if rps else 0.0,
                p50=float(p50.group(1)) if p50 else None, p95=float(p95.group(1)) if p95 else None,
                statuses=statuses, raw=out)


def _proposal(url: str, checkout: str) -> int:
    code = ("import sys; from sqlalchemy import create_engine, text; e = create_engine(sys.argv[1]);"
            "print(e.connect().scalar(text('SELECT min(pa.proposal_id) FROM proposal_answers pa JOIN contributions c"
            " ON c.id = pa.proposal_id WHERE c.consultation_id = 1 AND c.status = \\'active\\'')))")
    from consultations.config import normalise_database_url

    out = subprocess.run([sys.executable, "-c", code, normalise_database_url(url)], capture_output=True, text=True, check=True)
    return int(out.stdout.strip())


def _ms(seconds: float | None) -> str:
    return "-" if seconds is None else f"{seconds * 1000:.0f} ms"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--side", action="append", required=True, help="name=checkout:database URL")
    parser.add_argument("--clients", type=int, default=50)
    parser.add_argument("--duration", type=int, default=30, help="seconds per page and side")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--pages", help="names of the pages to run, comma-separated (default: all)")
    parser.add_argument("--log", default="/tmp/mesa-bench/load-gunicorn.log")
    args = parser.parse_args()
    sides = []
    for spec in args.side:
        name, rest = spec.split("=", 1)
        checkout, url = rest.split(":", 1)
        sides.append((name, checkout, url, _proposal(url, checkout)))
    wanted = set(args.pages.split(",")) if args.pages else None
    Path(args.log).parent.mkdir(parents=True, exist_ok=True)
    results: dict[str, dict[str, dict]] = {}
    with open(args.log, "a") as log:
        for page, path, who in PAGES:
            if wanted and page not in wanted:
                continue
            results[page] = {}
            for name, checkout, url, proposal in sides:
                port = _free_port()
                upgrade(checkout, url, log)
                server = start(checkout, url, port, args.workers, log)
                try:
                    _wait(port)
                    cookie = login(port, who) if who else None
                    r = run_hey(port, path.format(proposal=proposal), cookie, args.clients, args.duration)
                except (RuntimeError, OSError, subprocess.SubprocessError) as exc:
                    print(f"{page} [{name}]: not measured: {exc}", file=sys.stderr, flush=True)
                    r = dict(ok=0, failed=0, rps=0.0, p50=None, p95=None, statuses={}, raw=str(exc))
                finally:
                    stop(server)
                results[page][name] = r
                print(f"{page} [{name}]: {r['rps']:.1f} req/s, p95 {r['p95']} s, {r['ok']} ok, {r['failed']} failed "
                      f"{r['statuses']}", file=sys.stderr, flush=True)
    names = [s[0] for s in sides]
    head = ["page"] + [f"{n} {col}" for n in names for col in ("req/s", "p50", "p95", "errors")]
    print(f"\n{args.clients} clients for {args.duration} s per page, gunicorn with {args.workers} sync workers\n")
    print("| " + " | ".join(head) + " |")
    print("|" + "---|" * len(head))
    for page, by in results.items():
        row = [page]
        for n in names:
            r = by[n]
            row += [f"{r['rps']:.1f}", _ms(r["p50"]), _ms(r["p95"]), f"{r['failed']} of {r['ok'] + r['failed']}"]
        print("| " + " | ".join(row) + " |")


if __name__ == "__main__":
    main()
