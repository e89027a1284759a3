"""A reviewer asks for the PDF of a large summary, sees its progress and downloads it
(issue 13): a real worker process (flask worker) makes the file while the page, without
any request doing the work, shows the stage and percentage in a polite live region."""
from __future__ import annotations

import importlib.util
import re
from pathlib import Path

import pytest

from consultations.extensions import db
from tests.browser.test_journey import expect, log_in
from tests.test_jobs import start_queue, stop_queue

pytestmark = pytest.mark.browser

ROOT = Path(__file__).resolve().parents[2]
CONTRIBUTIONS = 1_000


def _fill(n: int) -> int:
    """The summaries benchmark's generator: consultation 1 gets ``n`` contributions."""
    spec = importlib.util.spec_from_file_location("summaries_benchmark", ROOT / "benchmarks" / "summaries_benchmark.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    module._fill(db, n + 10, 2, n)
    return 1


def test_a_reviewer_asks_for_a_large_pdf_sees_progress_and_downloads_it(app, server_url, browser_page, make_user,
                                                                         tmp_path):
    consultation_id = _fill(CONTRIBUTIONS)
    reviewer = make_user(role="reviewer")
    pool = start_queue(app, tmp_path)
    try:
        pool.start("flask")
        page = browser_page
        log_in(page, server_url, reviewer.email)
        page.goto(f"{server_url}/consultations/{consultation_id}/summary")
        page.get_by_role("list", name="Downloads").get_by_role("link", name="PDF").click()
        # The page of the job: stage and percentage, politely announced.
        expect()(page).to_have_url(re.compile(r"/downloads/\d+$"))
        status = page.locator('[role="status"][aria-live="polite"]')
        expect()(status).to_contain_text(re.compile(r"\d+\s*% done"))
        seen = {status.inner_text()}
        link = page.get_by_role("link", name="Download the file")
        for _ in range(600):  # at most 60 s
            if link.count():
                break
            seen.add(status.inner_text())
            page.wait_for_timeout(100)
        expect()(link).to_be_visible(timeout=1000)
        assert any("done" in text for text in seen), seen
        with page.expect_download() as info:
            link.click()
        download = info.value
        path = download.path()
        data = Path(path).read_bytes()
        assert data.startswith(b"%PDF")
        assert len(data) > 50_000
        assert download.suggested_filename.endswith(".pdf")
        # "My downloads", reached from the site menu, lists it.
        page.get_by_role("navigation", name="Main").get_by_role("link", name="My downloads").click()
        expect()(page.get_by_role("heading", name="My downloads")).to_be_visible()
        expect()(page.locator(".cards li")).to_have_count(1)
    finally:
        stop_queue(app, pool)
