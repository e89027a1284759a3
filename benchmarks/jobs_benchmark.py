"""Benchmark of background jobs (issue 13), side by side with the in-request path.

Fills a SQLite database with one consultation of N contributions (default 20,000), then
runs the same scenario twice under ``gunicorn -w 2`` (gunicorn.conf.py):

- **in-request** (``MESA_QUEUE_URL=immediate``: the web worker lays out the file inside
  the download request, as before issue 13; gunicorn's timeout raised to 600 s so that it
  finishes at all);
- **jobs** (a SQLite queue and one ``flask worker`` process beside gunicorn).

In each, a reviewer asks for the PDF and the Word file at once while another client asks
for the home page and the consultation's page every 0.2 s. Printed: the latency of those
page requests while the files are made (median, 95th percentile, maximum), the time until
each file is ready, the peak memory (resident set) of the gunicorn workers and of the job
worker (with the WeasyPrint processes it starts), and, for jobs, the download of a
published version's stored PDF (and its 304 answer).

Usage (from the repository root): ``.venv/bin/python benchmarks/jobs_benchmark.py
[--contributions N]``. It needs ports 5391-5392 free.
"""
from __future__ import annotations

import argparse
import http.cookiejar
import importlib.util
import os
import platform
import re
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
BIN = ROOT / ".venv" / "bin"
PASSWORD = "benchmark password 2026"


def _fill(database: str, n: int) -> tuple[int, str]:
    os.environ["DATABASE_URL"] = database
    from consultations import create_app
    from consultations.extensions import db

    app = create_app({"MESA_CHECK_MIGRATIONS": False})
    with app.app_context():
        from flask_migrate import upgrade

        upgrade(directory=str(ROOT / "migrations"))
        spec = importlib.util.spec_from_file_location("sb", ROOT / "benchmarks" / "summaries_benchmark.py")
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        module._fill(db, n + 10, 2, n)
        from consultations.accounts.services import register_user
        from consultations.consultations.models import Consultation
        from consultations.summaries import services

        reviewer = register_user("reviewer@bench.example", "Reviewer", PASSWORD, role="reviewer")
        organiser = register_user("organiser@bench.example", "Organiser", PASSWORD, role="organiser")
        consultation = db.session.get(Consultation, 1)
        consultation.organisers = [organiser]
        db.session.commit()
        with app.test_request_context("/"):
            summary = services.summary_for(consultation)
            services.publish(consultation, organiser, seen_revision=summary.revision)
        db.session.commit()
        return 1, reviewer.email


class Client:
    def __init__(self, base: str):
        self.base = base
        self.jar = http.cookiejar.CookieJar()

        class NoRedirect(urllib.request.HTTPRedirectHandler):
            def redirect_request(self, *args, **kwargs):
                return None

        self.opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(self.jar), NoRedirect)

    def request(self, path: str, data: dict | None = None, headers: dict | None = None, timeout: float = 900):
        body = urllib.parse.urlencode(data).encode() if data is not None else None
        req = urllib.request.Request(self.base + path, data=body, headers=headers or {})
        try:
            with self.opener.open(req, timeout=timeout) as response:
                return response.status, response.headers, response.read()
        except urllib.error.HTTPError as exc:
            return exc.code, exc.headers, exc.read()

    def login(self, email: str) -> None:
        _, _, page = self.request("/login")
        token = re.search(rb'name="csrf_token" type="hidden" value="([^"]+)"', page) or re.search(
            rb'name="csrf_token"[^>]*value="([^"]+)"', page)
        status, _, _ = self.request("/login", {"email": email, "password": PASSWORD, "csrf_token": token.group(1).decode()})
        assert status == 302, status


def _descendants(pid: int) -> list[int]:
    out = subprocess.run(["ps", "-o", "pid=", "--ppid", str(pid)], capture_output=True, text=True).stdout.split()
    found = [int(p) for p in out]
    for child in list(found):
        found += _descendants(child)
    return found


def _rss_mib(pid: int) -> float:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return 0.0


class MemoryWatch(threading.Thread):
    """Peak resident set of each process under ``root`` (sampled every 0.1 s)."""

    def __init__(self, root: int):
        super().__init__(daemon=True)
        self.root, self.peaks, self.stopped = root, {}, threading.Event()

    def run(self):
        while not self.stopped.wait(0.1):
            for pid in [self.root, *_descendants(self.root)]:
                self.peaks[pid] = max(self.peaks.get(pid, 0.0), _rss_mib(pid))


def _pages_while(client: Client, consultation_id: int, busy: threading.Event) -> list[float]:
    times = []
    paths = ["/", f"/consultations/{consultation_id}"]
    n = 0
    while busy.is_set():
        start = time.perf_counter()
        client.request(paths[n % 2], timeout=900)
        times.append(time.perf_counter() - start)
        n += 1
        time.sleep(0.2)
    return times


def _scenario(mode: str, env: dict, port: int, consultation_id: int, email: str) -> dict:
    env = dict(env)
    if mode == "in-request":
        env["MESA_QUEUE_URL"] = "immediate"
    gunicorn = subprocess.Popen(
        [str(BIN / "gunicorn"), "-w", "2", "-b", f"127.0.0.1:{port}", "--timeout", "600" if mode == "in-request" else "30",
         "app:app"], cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    worker = None
    if mode == "jobs":
        worker = subprocess.Popen([str(BIN / "flask"), "--app", "app", "worker"], cwd=ROOT, env=env,
                                  stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    base = f"http://127.0.0.1:{port}"
    for _ in range(100):
        try:
            urllib.request.urlopen(base + "/healthz", timeout=1)
            break
        except OSError:
            time.sleep(0.2)
    web_mem = MemoryWatch(gunicorn.pid)
    web_mem.start()
    job_mem = MemoryWatch(worker.pid) if worker else None
    if job_mem:
        job_mem.start()
    result = {"mode": mode}
    try:
        reviewer = Client(base)
        reviewer.login(email)
        pages = Client(base)
        busy = threading.Event()
        busy.set()
        latencies: list[float] = []
        poller = threading.Thread(target=lambda: latencies.extend(_pages_while(pages, consultation_id, busy)))
        poller.start()
        ready = {}

        def fetch(fmt):
            start = time.perf_counter()
            client = Client(base)
            client.jar = reviewer.jar
            client.opener = reviewer.opener
            status, headers, body = client.request(f"/consultations/{consultation_id}/summary/download.{fmt}")
            first = time.perf_counter() - start
            if status == 303:  # jobs: wait on the job's status, then download
                job = headers["Location"].rsplit("/", 1)[1]
                while True:
                    _, _, data = client.request(f"/downloads/{job}/status.json")
                    if b'"done"' in data or b'"failed"' in data:
                        break
                    time.sleep(0.5)
                status, headers, body = client.request(f"/downloads/{job}/file")
            ready[fmt] = (time.perf_counter() - start, first, status, len(body))

        threads = [threading.Thread(target=fetch, args=(fmt,)) for fmt in ("pdf", "docx")]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        busy.clear()
        poller.join()
        result["latency"] = latencies
        result["ready"] = ready
        if mode == "jobs":
            url = f"/consultations/{consultation_id}/summary/versions/1/download.pdf"
            status, headers, _ = reviewer.request(url)
            if status == 303:
                job = headers["Location"].rsplit("/", 1)[1]
                while b'"done"' not in reviewer.request(f"/downloads/{job}/status.json")[2]:
                    time.sleep(0.5)
            times, etag = [], None
            for _ in range(10):
                start = time.perf_counter()
                status, headers, body = reviewer.request(url)
                times.append(time.perf_counter() - start)
                etag = headers.get("ETag")
            start = time.perf_counter()
            not_modified = reviewer.request(url, headers={"If-None-Match": etag})[0]
            result["stored"] = (statistics.median(times), len(body), not_modified, time.perf_counter() - start)
    finally:
        web_mem.stopped.set()
        if job_mem:
            job_mem.stopped.set()
        for proc in (gunicorn, worker):
            if proc:
                proc.send_signal(signal.SIGTERM)
                proc.wait(timeout=30)
    workers = {pid: peak for pid, peak in web_mem.peaks.items() if pid != gunicorn.pid}
    result["web_peak"] = max(workers.values(), default=0)
    if job_mem:
        result["worker_peak"] = job_mem.peaks.get(worker.pid, 0)
        others = [peak for pid, peak in job_mem.peaks.items() if pid != worker.pid]
        result["weasyprint_peak"] = max(others, default=0)
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--contributions", type=int, default=20_000)
    args = parser.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="mesa-jobs-bench-"))
    database = f"sqlite:///{folder / 'bench.sqlite3'}"
    start = time.perf_counter()
    consultation_id, email = _fill(database, args.contributions)
    print(f"{platform.python_implementation()} {platform.python_version()}, {os.cpu_count()} CPUs; SQLite; "
          f"filled {args.contributions:,} contributions in {time.perf_counter() - start:.1f} s")
    env = {k: v for k, v in os.environ.items() if not k.startswith("MESA_")}
    env.update(DATABASE_URL=database, MESA_INSTANCE_PATH=str(folder / "instance"), SECRET_KEY="bench",
               MESA_QUEUE_URL=f"sqlite:///{folder / 'queue.sqlite3'}", MESA_FILES_DIR=str(folder / "files"),
               MESA_RATELIMIT_ENABLED="0")
    rows = [_scenario(mode, env, port, consultation_id, email)
            for mode, port in (("in-request", 5391), ("jobs", 5392))]
    print()
    print("| | in-request (before) | jobs (issue 13) |")
    print("|---|---|---|")

    def cell(r, key):
        lat = r["latency"]
        if key == "lat":
            q = statistics.quantiles(lat, n=20)[-1] if len(lat) >= 20 else max(lat)
            return f"{statistics.median(lat) * 1000:.0f} ms / {q * 1000:.0f} ms / {max(lat) * 1000:.0f} ms ({len(lat)} requests)"
        if key in ("pdf", "docx"):
            total, first, status, size = r["ready"][key]
            return f"{total:.1f} s (first answer after {first:.2f} s; {status}, {size / 1e6:.1f} MB)"
        return key

    print(f"| Page requests while both are made: median / p95 / max | {cell(rows[0], 'lat')} | {cell(rows[1], 'lat')} |")
    print(f"| PDF of {args.contributions:,} contributions ready | {cell(rows[0], 'pdf')} | {cell(rows[1], 'pdf')} |")
    print(f"| Word of {args.contributions:,} contributions ready | {cell(rows[0], 'docx')} | {cell(rows[1], 'docx')} |")
    print(f"| Peak memory, largest gunicorn worker | {rows[0]['web_peak']:.0f} MiB | {rows[1]['web_peak']:.0f} MiB |")
    print(f"| Peak memory, job worker (largest WeasyPrint process) | — | {rows[1]['worker_peak']:.0f} MiB "
          f"({rows[1]['weasyprint_peak']:.0f} MiB) |")
    stored = rows[1]["stored"]
    print(f"| Published version's PDF, stored: download (median of 10) | made again each time | "
          f"{stored[0] * 1000:.0f} ms ({stored[1] / 1e6:.1f} MB); If-None-Match: {stored[2]} in {stored[3] * 1000:.0f} ms |")


if __name__ == "__main__":
    main()
