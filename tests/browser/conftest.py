"""Fixtures for end-to-end journeys in a real (headless) Chromium.

The application runs in a werkzeug server thread on a free local port, on the
same freshly migrated database as the rest of the suite (the root ``app``
fixture), with CSRF protection switched on: a real browser submits real tokens.

Playwright cannot download browsers here, so the Debian Chromium is used. If it
is missing the browser tests are skipped, unless ``MESA_REQUIRE_BROWSER=1`` is
set (as in CI), in which case they fail.
"""
from __future__ import annotations

import os
import threading

import pytest
from werkzeug.serving import make_server

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
VIEWPORT = {"width": 1280, "height": 900}
TIMEOUT_MS = 15_000


def _unavailable(reason: str):
    """Skip the browser tests, or fail them when CI requires a browser."""
    if os.environ.get("MESA_REQUIRE_BROWSER") == "1":
        pytest.fail(f"{reason} (and MESA_REQUIRE_BROWSER=1)", pytrace=False)
    pytest.skip(reason)


@pytest.fixture
def server_url(app):
    """Serve ``app`` over HTTP in a daemon thread; yield its base URL."""
    app.config["WTF_CSRF_ENABLED"] = True
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, name="mesa-live-server", daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)


@pytest.fixture(scope="session")
def chromium():
    """One headless Chromium for the whole session (each test gets fresh contexts)."""
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        _unavailable("the playwright package is not installed")
    if not os.path.exists(CHROMIUM):
        _unavailable(f"Chromium not found at {CHROMIUM}")

    playwright = sync_playwright().start()
    try:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        try:
            yield browser
        finally:
            browser.close()
    finally:
        playwright.stop()


@pytest.fixture
def new_page(chromium):
    """Open a page in a fresh browser context (own cookies, so its own session).

    Call it again for a second, independent visitor; everything is closed after the test."""
    contexts = []

    def open_page():
        context = chromium.new_context(viewport=VIEWPORT)
        context.set_default_timeout(TIMEOUT_MS)
        contexts.append(context)
        return context.new_page()

    yield open_page
    for context in contexts:
        context.close()


@pytest.fixture
def browser_page(new_page):
    """A page in a fresh 1280x900 browser context."""
    return new_page()
