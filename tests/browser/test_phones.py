"""Phones: every main page at 360 px wide without horizontal scrolling, in English and
Arabic, logged out and as an organiser; controls big enough for a thumb; downloads
reachable; the layout mirrors right to left. With ``MESA_SCREENSHOTS=1`` also refreshes
the README's screenshots (Spanish and Arabic, 360 px and 1280 px)."""
from __future__ import annotations

import os
import re
from pathlib import Path

import pytest

from tests.browser.test_accessibility import (  # noqa: F401 (demo_site is a fixture)
    choose_language,
    demo_site,
    log_in,
    new_context,
    open_page,
)

pytestmark = pytest.mark.browser

PHONE = {"width": 360, "height": 740}
DESKTOP = {"width": 1280, "height": 900}
MIN_TARGET = 44  # px: controls a thumb can hit (WCAG 2.5.5's size, Apple's and Google's guidance)
SCREENSHOTS = Path(__file__).resolve().parents[2] / "docs" / "screenshots"

# What overflows the page, if anything: the widest elements poking past the right (or,
# right to left, the left) edge, to name them in the failure message.
OVERFLOW_JS = """() => {
  const width = document.documentElement.clientWidth;
  const culprits = [];
  for (const el of document.querySelectorAll('body *')) {
    const r = el.getBoundingClientRect();
    if (r.width === 0 || r.height === 0) continue;
    if (r.right > width + 1 || r.left < -1) {
      // Inside a scrolling .table-wrap is fine, unless it escapes (position: absolute/fixed).
      const wrap = el.closest('.table-wrap');
      if (wrap && wrap !== el && !['absolute', 'fixed'].includes(getComputedStyle(el).position)) continue;
      const name = el.tagName.toLowerCase() + (el.id ? '#' + el.id : '') +
        (el.className && typeof el.className === 'string' ? '.' + el.className.trim().split(/\\s+/).join('.') : '');
      culprits.push(`${name} [${Math.round(r.left)}..${Math.round(r.right)}]`);
    }
  }
  return {scrollWidth: document.documentElement.scrollWidth, clientWidth: width, culprits: culprits.slice(0, 8)};
}"""

# Controls shorter than a thumb: text fields, selects, text areas and buttons in <main>
# (checkboxes and radios are judged with their label, at 24 px).
SMALL_CONTROLS_JS = """(min) => {
  const small = [];
  const visible = el => { const r = el.getBoundingClientRect(); return r.width > 0 && r.height > 0; };
  const name = el => el.tagName.toLowerCase() + (el.name ? `[name=${el.name}]` : '') +
    (el.textContent && el.tagName === 'BUTTON' ? ` "${el.textContent.trim().slice(0, 30)}"` : '');
  for (const el of document.querySelectorAll(
      'main input:not([type=hidden]):not([type=checkbox]):not([type=radio]), main select, main textarea, main button, main .button')) {
    if (!visible(el) || el.classList.contains('link-button')) continue;
    const h = el.getBoundingClientRect().height;
    if (h < min - 0.5) small.push(`${name(el)}: ${h.toFixed(1)}px`);
  }
  for (const el of document.querySelectorAll('main input[type=checkbox], main input[type=radio]')) {
    if (!visible(el)) continue;
    const row = el.closest('li, .field, label') || el;
    const h = Math.max(row.getBoundingClientRect().height, el.getBoundingClientRect().height);
    if (h < 24) small.push(`${name(el)} (with its label): ${h.toFixed(1)}px`);
  }
  return small;
}"""


def check_fits(page, where: str, problems: list[str]) -> None:
    info = page.evaluate(OVERFLOW_JS)
    if info["scrollWidth"] > PHONE["width"]:
        problems.append(f"{where}: page is {info['scrollWidth']}px wide; overflowing: {', '.join(info['culprits'])}")


@pytest.mark.parametrize("lang", ["en", "ar"])
def test_every_page_fits_a_phone(chromium, server_url, demo_site, lang):
    problems: list[str] = []
    for role in (None, "organiser"):
        context = new_context(chromium, lang, viewport=PHONE)
        try:
            page = context.new_page()
            if role:
                log_in(page, server_url, demo_site.emails[role])
            choose_language(page, server_url, lang)
            for target in demo_site.pages(role):
                open_page(page, server_url, target)
                where = f"[{lang}, {role or 'logged out'}] {target.name} ({target.path})"
                check_fits(page, where, problems)
                small = page.evaluate(SMALL_CONTROLS_JS, MIN_TARGET)
                if small:
                    problems.append(f"{where}: controls under {MIN_TARGET}px: {', '.join(small[:6])}")
        finally:
            context.close()
    assert not problems, "Not usable on a 360px-wide phone:\n" + "\n".join(problems)


def test_right_to_left_layout_mirrors_and_fits(chromium, server_url, demo_site):
    """With dir="rtl" on <html> (as the Arabic interface sets it) the header mirrors:
    the brand sits at the right, the navigation at the left; nothing widens the page."""
    context = new_context(chromium, "ar", viewport=PHONE)
    problems: list[str] = []
    try:
        page = context.new_page()
        for path in ("/", f"/consultations/{demo_site.guadalajara}", "/login", "/organisations/"):
            page.goto(server_url + path)
            page.evaluate("document.documentElement.dir = 'rtl'")
            check_fits(page, f"rtl {path}", problems)
        page.set_viewport_size(DESKTOP)
        page.goto(server_url + "/")
        page.evaluate("document.documentElement.dir = 'rtl'")
        brand = page.locator(".brand").bounding_box()
        nav = page.locator(".site-header nav").bounding_box()
        assert brand["x"] > nav["x"], "in RTL the brand should sit to the right of the navigation"
        assert brand["x"] + brand["width"] > DESKTOP["width"] / 2
        main_h1 = page.locator("main h1").first.bounding_box()
        assert main_h1["x"] + main_h1["width"] > DESKTOP["width"] / 2, "in RTL headings start at the right"
    finally:
        context.close()
    assert not problems, "\n".join(problems)


def test_tables_scroll_inside_their_wrapper_and_long_words_wrap(chromium, server_url, demo_site):
    context = new_context(chromium, "en", viewport=PHONE)
    try:
        page = context.new_page()
        log_in(page, server_url, demo_site.emails["admin"])
        for path in ("/admin/audit/", "/admin/users", f"/consultations/{demo_site.valencia}/members"):
            page.goto(server_url + path)
            assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"], path
            wraps = page.locator(".table-wrap")
            assert wraps.count(), f"{path} has no .table-wrap"
            for i in range(wraps.count()):
                wrap = wraps.nth(i)
                overflowing = wrap.evaluate("w => w.scrollWidth > w.clientWidth + 1")
                if overflowing:
                    # A keyboard user can reach and scroll it (app.js), and it is named.
                    assert wrap.get_attribute("tabindex") == "0", path
                    assert wrap.get_attribute("aria-label"), path
        # A long unbroken word or URL in user content wraps instead of widening the page.
        page.goto(server_url + "/")
        page.evaluate(
            """() => {
              const p = document.createElement('p');
              p.textContent = 'https://example.org/' + 'averyveryverylongpathsegment'.repeat(12);
              document.querySelector('main').appendChild(p);
              const h = document.createElement('h2');
              h.textContent = 'Donaudampfschifffahrtsgesellschaftskapitänsmützenabzeichenträger';
              document.querySelector('main').appendChild(h);
            }"""
        )
        assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    finally:
        context.close()


def test_downloads_stay_reachable_on_a_phone(chromium, server_url, demo_site):
    """Calendar files and summary downloads are visible, on screen and big enough to tap."""
    context = new_context(chromium, "en", viewport=PHONE)
    try:
        page = context.new_page()
        log_in(page, server_url, demo_site.emails["organiser"])
        found = 0
        for path in (
            f"/consultations/{demo_site.guadalajara}",
            f"/consultations/{demo_site.valencia}",
            *[p.path for p in demo_site.public if p.name == "roundtable"],
            f"/consultations/{demo_site.guadalajara}/summary",
        ):
            response = page.goto(server_url + path)
            assert response is not None and response.status == 200, path
            links = page.locator('main a[href$=".ics"], main a[href*="/download."]')
            for i in range(links.count()):
                link = links.nth(i)
                link.scroll_into_view_if_needed()
                assert link.is_visible(), f"{path}: download link {i} hidden"
                box = link.bounding_box()
                assert box["x"] >= 0 and box["x"] + box["width"] <= PHONE["width"] + 0.5, f"{path}: {box}"
                assert box["height"] >= 24, f"{path}: download link only {box['height']}px high"
                found += 1
        assert found >= 3
    finally:
        context.close()


@pytest.mark.skipif(
    os.environ.get("MESA_SCREENSHOTS") != "1",
    reason="set MESA_SCREENSHOTS=1 to refresh docs/screenshots/*.png",
)
def test_readme_screenshots_in_spanish_and_arabic(chromium, server_url, demo_site):
    """docs/screenshots/{home,consultation,contribute}-{es,ar}-{360,1280}.png"""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    pages = {
        "home": "/",
        "consultation": f"/consultations/{demo_site.guadalajara}",
        "contribute": f"/consultations/{demo_site.valencia}/contribute",
    }
    for lang in ("es", "ar"):
        for width, viewport in ((360, PHONE), (1280, DESKTOP)):
            context = new_context(chromium, lang, viewport=viewport)
            try:
                page = context.new_page()
                log_in(page, server_url, demo_site.emails["participant"])
                choose_language(page, server_url, lang)
                for name, path in pages.items():
                    page.goto(server_url + path)
                    page.wait_for_load_state("networkidle")
                    assert re.search(r"\S", page.locator("main h1").first.inner_text())
                    page.screenshot(path=str(SCREENSHOTS / f"{name}-{lang}-{width}.png"), full_page=True)
            finally:
                context.close()


# Summary tables at 360 px (issue 12): a heading or cell whose word is broken over two
# lines ("Bu / pr" for "Buenas prácticas"), a cell whose text is cut off, or a table wider
# than the screen with no visible cue to scroll it.
SUMMARY_TABLES_JS = """() => {
  const problems = [];
  const brokenWord = (cell) => {
    const walker = document.createTreeWalker(cell, NodeFilter.SHOW_TEXT);
    for (let node = walker.nextNode(); node; node = walker.nextNode()) {
      const re = /[^\\s\\-\u2010]+/g;  // a word, up to a space or a hyphen (where it may wrap)
      for (let m = re.exec(node.data); m; m = re.exec(node.data)) {
        const range = document.createRange();
        range.setStart(node, m.index);
        range.setEnd(node, m.index + m[0].length);
        const lines = new Set([...range.getClientRects()].filter(r => r.width > 0).map(r => Math.round(r.top)));
        if (lines.size > 1) return m[0];
      }
    }
    return null;
  };
  for (const table of document.querySelectorAll('main table')) {
    const name = (table.caption ? table.caption.textContent : 'table').trim().slice(0, 50);
    const wrap = table.closest('.table-wrap') || table;
    if (wrap.scrollWidth > wrap.clientWidth + 1) {
      const cue = wrap.querySelector('.scroll-cue') || wrap.parentElement.querySelector('.scroll-cue');
      const r = cue && cue.getBoundingClientRect();
      if (!r || r.width === 0 || r.height === 0)
        problems.push(`"${name}": ${wrap.scrollWidth}px wide in ${wrap.clientWidth}px, no visible cue to scroll`);
    }
    for (const cell of table.querySelectorAll('th, td')) {
      const r = cell.getBoundingClientRect();
      if (r.width <= 1 || r.height <= 1) continue;  // visually hidden (a stacked table's header row)
      const word = brokenWord(cell);
      if (word) problems.push(`"${name}": "${word}" broken over two lines in a ${Math.round(r.width)}px cell`);
      else if (cell.scrollWidth > cell.clientWidth + 1 && getComputedStyle(cell).overflowX !== 'visible')
        problems.push(`"${name}": "${cell.textContent.trim().slice(0, 30)}" cut off`);
    }
    // Stacked on a phone: every value still says what it is (its column's heading).
    for (const td of table.querySelectorAll('tbody td')) {
      if (getComputedStyle(td).display === 'table-cell' || td.hasAttribute('colspan')) continue;
      const label = getComputedStyle(td, '::before').content;
      if (!label || label === 'none' || label === '""' || label === 'normal')
        problems.push(`"${name}": a stacked value without its heading`);
    }
  }
  return problems;
}"""


@pytest.mark.parametrize("lang", ["en", "es", "ar"])
def test_summary_tables_are_readable_on_a_phone(chromium, server_url, demo_site, lang):
    context = new_context(chromium, lang, viewport=PHONE)
    problems: list[str] = []
    try:
        page = context.new_page()
        log_in(page, server_url, demo_site.emails["organiser"])
        choose_language(page, server_url, lang)
        for path in (f"/consultations/{demo_site.guadalajara}/summary",):
            response = page.goto(server_url + path)
            assert response is not None and response.status == 200, path
            assert page.locator("main table").count() >= 4, path
            problems += [f"[{lang}] {path} {p}" for p in page.evaluate(SUMMARY_TABLES_JS)]
            check_fits(page, f"[{lang}] {path}", problems)
    finally:
        context.close()
    assert not problems, "Summary tables unreadable at 360px:\n" + "\n".join(problems)
