"""A burst of readers of a live summary is served (issue 14): through a real gunicorn on
two workers, as in production. Before the charts were kept, 50 concurrent readers got 50
failures (each view drew two charts, about 8 s, past the workers' timeout)."""
from __future__ import annotations

import re
import time
from concurrent.futures import ThreadPoolExecutor

from .conftest import PASSWORD
from .test_browsing import _bulk_contributions
from .test_failsafe import Server


def test_fifty_concurrent_readers_of_a_summary_are_all_served(app, database_url, tmp_path, make_user, make_org, make_consultation):
    organiser = make_user(role="organiser")
    consultation = make_consultation(organiser=organiser)
    authors = [make_user(organisation=make_org(category=c)) for c in ("ngo", "migrant_association", "trade_union")]
    _bulk_contributions(consultation, 300, authors)
    server = Server(tmp_path, 2, DATABASE_URL=database_url, MESA_RATELIMIT_ENABLED="0")
    try:
        status, _, cookie = server.form("/login", {"email": organiser.email, "password": PASSWORD})
        assert status == 302
        path = f"/consultations/{consultation.id}/summary"
        status, page, _ = server.request("GET", path, cookie=cookie)  # the first view draws the charts
        assert status == 200
        charts = re.findall(r'<img src="(/charts/[0-9a-f]{64}\.png)"', page)
        assert len(charts) == 2

        def read(_):
            started = time.monotonic()
            status, page, _ = server.request("GET", path, cookie=cookie, timeout=30)
            return status, time.monotonic() - started, len(page.encode())

        started = time.monotonic()
        with ThreadPoolExecutor(max_workers=50) as pool:
            results = list(pool.map(read, range(50)))
        elapsed = time.monotonic() - started
        failures = [status for status, _, _ in results if status != 200]
        assert failures == [], f"{len(failures)} of 50 readers failed"
        assert elapsed < 25, elapsed
        assert max(size for _, _, size in results) < 80_000  # no picture inlined
        for chart in charts:
            status, _, _ = server.request("GET", chart, cookie=cookie)
            assert status == 200
    finally:
        log = server.stop()
    assert "WORKER TIMEOUT" not in log
