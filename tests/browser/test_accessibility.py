"""Accessibility: axe-core (from the npm registry, see package.json) run in real headless
Chromium over every main page, logged out and logged in as each role, in English and
in Arabic. No violation of impact "serious" or "critical" is allowed.

``make test`` installs axe-core with npm (``make browser``); when it is missing these
tests skip, or fail under ``MESA_REQUIRE_BROWSER=1`` as in CI.

The other helpers here (the demo site, logging in, choosing the language) are shared
with ``test_phones.py``.
"""
from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from tests.browser.conftest import TIMEOUT_MS, VIEWPORT
from tests.conftest import PASSWORD

pytestmark = pytest.mark.browser

ROOT = Path(__file__).resolve().parents[2]
AXE = ROOT / "node_modules" / "axe-core" / "axe.min.js"
# The impacts that fail the check. MESA_AXE_IMPACTS=minor,moderate,serious,critical lists
# everything axe finds (an audit, not a gate).
BLOCKING = tuple(os.environ.get("MESA_AXE_IMPACTS", "serious,critical").split(","))
ROLES = ("participant", "organiser", "reviewer", "admin")


def axe_path() -> Path:
    if not AXE.exists():
        reason = "axe-core is not installed: run `make browser` (npm ci) first"
        if os.environ.get("MESA_REQUIRE_BROWSER") == "1":
            pytest.fail(f"{reason} (and MESA_REQUIRE_BROWSER=1)", pytrace=False)
        pytest.skip(reason)
    return AXE


# -- the site under test: the demo data plus one account per role ---------------------

@dataclass
class Page:
    name: str
    path: str
    # "errors": submit the page's main form with invalid input, check the page it returns.
    errors: str | None = None
    # Its content changes with the role of who is logged in: check it for every role.
    per_role: bool = False


@dataclass
class DemoSite:
    emails: dict[str, str]
    public: list[Page]
    logged_out: list[Page]
    by_role: dict[str, list[Page]] = field(default_factory=dict)
    guadalajara: int = 0
    valencia: int = 0

    def pages(self, role: str | None) -> list[Page]:
        """Logged out: every public page. Logged in: the pages only that role sees, and
        the public pages whose buttons and panels change with who is logged in."""
        if role is None:
            return self.public + self.logged_out
        return [p for p in self.public if p.per_role] + self.by_role[role]


@pytest.fixture
def demo_site(app, make_user) -> DemoSite:
    """The demo data, an account of each role (the organiser organises Valencia's open
    council and Guadalajara's closed platform), and Valencia's no-account link."""
    from sqlalchemy import select

    from consultations.consultations.models import Consultation
    from consultations.consultations.services import add_organiser
    from consultations.contributions.models import Contribution
    from consultations.contributions.services import open_anonymous_link
    from consultations.demo import load_demo
    from consultations.extensions import db
    from consultations.organisations.models import Organisation
    from consultations.roundtables.models import Roundtable

    load_demo()
    db.session.commit()

    def consultation(fragment: str) -> Consultation:
        return db.session.scalars(select(Consultation).where(Consultation.title.contains(fragment))).one()

    guadalajara, valencia = consultation("Guadalajara"), consultation("Valencia")
    civil_society = consultation("civil society")
    users = {
        # A member of an organisation invited to Valencia's council, so they may contribute.
        "participant": make_user(
            role="participant", organisation=valencia.invited_organisations[0], name="Amina El Idrissi"
        ),
        "organiser": make_user(role="organiser"),
        "reviewer": make_user(role="reviewer"),
        "admin": make_user(role="admin"),
    }
    for c in (guadalajara, valencia):
        add_organiser(c, users["organiser"].email)
    token = open_anonymous_link(valencia)
    db.session.commit()

    g_round = db.session.scalars(
        select(Roundtable).where(Roundtable.consultation_id == guadalajara.id).order_by(Roundtable.starts_at.desc())
    ).first()
    v_round = db.session.scalars(select(Roundtable).where(Roundtable.consultation_id == valencia.id)).first()
    challenge = db.session.scalars(
        select(Contribution)
        .where(Contribution.consultation_id == guadalajara.id, Contribution.kind == "challenge")
        .order_by(Contribution.id)
    ).first()
    v_contribution = db.session.scalars(
        select(Contribution).where(Contribution.consultation_id == valencia.id).order_by(Contribution.id)
    ).first()
    org = db.session.scalars(select(Organisation).order_by(Organisation.id)).first()
    g, v = guadalajara.id, valencia.id

    public = [
        Page("home", "/", per_role=True),
        Page("consultations", "/consultations/"),
        Page("consultation (closed, roundtables)", f"/consultations/{g}", per_role=True),
        Page("consultation (open, filtered)", f"/consultations/{v}?kind=challenge&q=housing", per_role=True),
        Page("consultation (published)", f"/consultations/{civil_society.id}"),
        Page("contribution", f"/contributions/{challenge.id}", per_role=True),
        Page("objectives", "/objectives/"),
        Page("objective", "/objectives/16"),
        Page("organisations", "/organisations/"),
        Page("organisation", f"/organisations/{org.id}"),
        Page("roundtable", f"/roundtables/{g_round.id}", per_role=True),
        Page("council members", f"/consultations/{v}/members"),
        Page("privacy", "/privacy"),
        Page("about", "/about"),
        Page("contribution without account", f"/c/{token}"),
        Page("contribution without account, errors", f"/c/{token}", errors="main form.stack"),
        Page("not found", "/consultations/999999"),
    ]
    logged_out = [
        Page("login", "/login"),
        Page("login, errors", "/login", errors="main form"),
        Page("register", "/register"),
        Page("register, errors", "/register", errors="main form"),
        Page("forgot password", "/password/forgot"),
    ]
    member = [
        Page("account", "/account"),
        Page("delete account", "/account/delete"),
        Page("report a contribution", f"/contributions/{v_contribution.id}/flag"),
    ]
    by_role = {
        "participant": member + [
            Page("contribution form", f"/consultations/{v}/contribute"),
            Page("contribution form, errors", f"/consultations/{v}/contribute", errors="main form.stack"),
        ],
        "organiser": member + [
            Page("contribution form", f"/consultations/{v}/contribute"),
            Page("new consultation", "/consultations/new"),
            Page("new consultation, errors", "/consultations/new", errors="main form.stack"),
            Page("edit consultation", f"/consultations/{v}/edit"),
            Page("organisers", f"/consultations/{v}/organisers"),
            Page("moderation queue", f"/consultations/{v}/moderation"),
            Page("new roundtable", f"/consultations/{v}/roundtables/new"),
            Page("roundtable (organiser)", f"/roundtables/{v_round.id}"),
            Page("capture", f"/roundtables/{v_round.id}/capture"),
            Page("capture, errors", f"/roundtables/{v_round.id}/capture", errors="capture"),
            Page("registrations", f"/roundtables/{g_round.id}/registrations"),
            Page("attendance", f"/roundtables/{g_round.id}/attendance"),
            Page("minutes", f"/roundtables/{g_round.id}/minutes"),
            Page("carry forward", f"/roundtables/{g_round.id}/carry-forward"),
            Page("addressed", f"/challenges/{challenge.id}/addressed"),
            Page("new council member", f"/consultations/{v}/members/new"),
        ],
        "reviewer": member,
        "admin": member + [
            Page("people", "/admin/users"),
            Page("edit person", f"/admin/users/{users['participant'].id}"),
            Page("audit log", "/admin/audit/"),
            Page("moderation queue (admin)", f"/consultations/{v}/moderation"),
        ],
    }
    return DemoSite(
        emails={role: user.email for role, user in users.items()},
        public=public,
        logged_out=logged_out,
        by_role=by_role,
        guadalajara=g,
        valencia=v,
    )


# -- browsing helpers ---------------------------------------------------------------

def new_context(chromium, lang: str = "en", viewport=None):
    """A fresh browser context whose browser asks for ``lang`` (Accept-Language)."""
    context = chromium.new_context(
        viewport=viewport or VIEWPORT,
        locale=lang,
        # axe-core is injected as a script: let it past the Content-Security-Policy.
        bypass_csp=True,
        extra_http_headers={"Accept-Language": f"{lang},en;q=0.5" if lang != "en" else "en"},
    )
    context.set_default_timeout(TIMEOUT_MS)
    return context


def choose_language(page, base_url: str, lang: str) -> None:
    """Choose the interface language the way a person would, whatever the mechanism
    the application offers: a link with ``hreflang``, a ``<select>`` switcher in a form,
    or (failing those) the ``?lang=`` parameter. The browser's Accept-Language (set by
    ``new_context``) already asks for it too."""
    page.goto(base_url + "/")
    link = page.locator(f'a[hreflang="{lang}"]')
    if link.count():
        link.first.click()
        page.wait_for_load_state()
        return
    select = page.locator("select[name=lang], select[name=locale], select[name=language]")
    if select.count() and select.first.locator(f'option[value="{lang}"]').count():
        select.first.select_option(lang)
        form = select.first.locator("xpath=ancestor::form[1]")
        with page.expect_navigation():
            if form.locator("button[type=submit], button:not([type])").count():
                form.locator("button[type=submit], button:not([type])").first.click()
            else:
                form.evaluate("f => f.requestSubmit()")
        return
    page.goto(f"{base_url}/?lang={lang}")


def log_in(page, base_url: str, email: str) -> None:
    """Log in through the form, by field names (labels change with the language)."""
    page.goto(base_url + "/login")
    form = page.locator("main form")
    form.locator("input[name=email]").fill(email)
    form.locator("input[name=password]").fill(PASSWORD)
    with page.expect_navigation():
        form.locator("button[type=submit]").click()
    assert urlsplit(page.url).path != "/login", f"could not log in as {email}"


def open_page(page, base_url: str, target: Page) -> None:
    response = page.goto(base_url + target.path)
    assert response is not None
    if target.name == "not found":
        assert response.status == 404
    else:
        assert response.status == 200, f"{target.name}: {target.path} answered {response.status}"
    if target.errors:
        submit_with_errors(page, target.errors)


def submit_with_errors(page, selector: str) -> None:
    """Submit a form with invalid input (browser validation off) so that the server
    re-renders it with its error messages."""
    if selector == "capture":
        form = page.locator("main form").filter(has=page.locator("select[name$='-kind']")).first
        form.locator("select[name$='-kind']").first.select_option("challenge")
    else:
        form = page.locator(selector).first
        if form.locator("input[name=email]").count():
            form.locator("input[name=email]").fill("not-an-address")
        if form.locator("input[name=password]").count():
            form.locator("input[name=password]").first.fill("short")
    form.evaluate("f => { f.noValidate = true; }")
    with page.expect_navigation():
        form.locator("button[type=submit], button:not([type])").last.click()
    assert page.locator(".error, .form-errors, .flash-error").count(), f"no error shown after submitting {selector}"


def run_axe(page, impacts=None) -> list[dict]:
    """Run axe-core on the page (WCAG 2.0/2.1 A and AA rules, plus best practices);
    return the violations of blocking impact (or of the impacts given)."""
    if not page.evaluate("typeof window.axe !== 'undefined'"):
        page.add_script_tag(path=str(axe_path()))
    result = page.evaluate(
        """async () => {
          const r = await axe.run(document, {
            runOnly: {type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'best-practice']},
            resultTypes: ['violations'],
          });
          return r.violations.map(v => ({
            id: v.id, impact: v.impact, help: v.help,
            nodes: v.nodes.map(n => ({target: n.target.join(' '), summary: n.failureSummary, impact: n.impact})),
          }));
        }"""
    )
    return [v for v in result if v["impact"] in (impacts or BLOCKING)]


def describe(failures: dict[str, list[dict]]) -> str:
    lines = []
    for where, violations in failures.items():
        for v in violations:
            lines.append(f"{where}: [{v['impact']}] {v['id']}: {v['help']}")
            for node in v["nodes"][:6]:
                summary = " ".join((node["summary"] or "").split())[:300]
                lines.append(f"    {node['target']}  -- {summary}")
            if len(v["nodes"]) > 6:
                lines.append(f"    ... and {len(v['nodes']) - 6} more nodes")
    return "\n".join(lines)


def html_lang(page) -> tuple[str, str]:
    return tuple(page.evaluate("[document.documentElement.lang, document.documentElement.dir]"))


# -- the check ------------------------------------------------------------------------

@pytest.mark.parametrize("lang", ["en", "ar"])
def test_axe_finds_no_serious_violations(chromium, server_url, demo_site, lang):
    axe_path()
    failures: dict[str, list[dict]] = {}
    seen_lang = set()
    for role in (None, *ROLES):
        context = new_context(chromium, lang)
        try:
            page = context.new_page()
            if role:
                log_in(page, server_url, demo_site.emails[role])
            choose_language(page, server_url, lang)
            for target in demo_site.pages(role):
                open_page(page, server_url, target)
                seen_lang.add(html_lang(page))
                violations = run_axe(page)
                if violations:
                    failures[f"[{lang}, {role or 'logged out'}] {target.name} ({target.path})"] = violations
        finally:
            context.close()
    assert not failures, "axe-core found serious or critical violations:\n" + describe(failures)
    if lang == "ar":
        # Once the interface is translated, every Arabic page is marked as such.
        print(f"Arabic run: <html lang/dir> seen: {sorted(seen_lang)}")


@pytest.mark.parametrize("lang", ["en", "ar"])
def test_summaries_have_no_serious_violations(chromium, server_url, demo_site, lang):
    """The summaries pages (a reviewer and an organiser read them), kept apart from the
    main check so that a problem there is reported on its own. Their landmarks must
    also have distinct names (axe's moderate "landmark-unique")."""
    axe_path()
    g = demo_site.guadalajara
    failures: dict[str, list[dict]] = {}
    for role, paths in {
        "reviewer": [f"/consultations/{g}/summary", "/summaries/national", f"/summaries/national?c={g}"],
        "organiser": [f"/consultations/{g}/summary", f"/consultations/{g}/summary/settings",
                      f"/consultations/{g}/summary/sections/2k"],
    }.items():
        context = new_context(chromium, lang)
        try:
            page = context.new_page()
            log_in(page, server_url, demo_site.emails[role])
            choose_language(page, server_url, lang)
            for path in paths:
                response = page.goto(server_url + path)
                assert response is not None and response.status == 200, f"{path}: {response and response.status}"
                assert html_lang(page)[0] == lang
                violations = run_axe(page, impacts={*BLOCKING, "moderate"})
                violations = [v for v in violations if v["impact"] in BLOCKING or v["id"] == "landmark-unique"]
                if violations:
                    failures[f"[{lang}, {role}] {path}"] = violations
        finally:
            context.close()
    assert not failures, "axe-core found serious or critical violations:\n" + describe(failures)


def test_axe_is_the_pinned_npm_package():
    path = axe_path()
    declared = json.loads((ROOT / "package.json").read_text())["devDependencies"]["axe-core"]
    installed = json.loads((path.parent / "package.json").read_text())["version"]
    assert declared.lstrip("~^").split(".")[:2] == installed.split(".")[:2]


# -- beyond axe: keyboard, focus, errors tied to fields --------------------------------

def test_keyboard_skip_link_focus_ring_and_hidden_groups(chromium, server_url, demo_site):
    context = new_context(chromium, "en")
    try:
        page = context.new_page()
        page.goto(server_url + "/register")
        # The first Tab reaches the skip link, which then shows on screen.
        page.keyboard.press("Tab")
        focused = page.evaluate("document.activeElement.className")
        assert "skip-link" in focused
        box = page.locator(".skip-link").bounding_box()
        assert box["y"] >= 0 and box["x"] >= 0, "the focused skip link is off screen"
        page.keyboard.press("Enter")
        assert page.evaluate("document.activeElement.id") == "main"

        # A visible focus ring: a solid outline of at least 2px that is not the page's
        # background colour.
        page.locator("main a").first.focus()
        page.keyboard.press("Shift+Tab")
        page.keyboard.press("Tab")
        ring = page.evaluate(
            """() => { const s = getComputedStyle(document.activeElement);
                       return [s.outlineStyle, parseFloat(s.outlineWidth), s.outlineColor]; }"""
        )
        assert ring[0] == "solid" and ring[1] >= 2 and ring[2] not in ("rgb(255, 255, 255)", "transparent"), ring

        # Groups shown only for one answer are out of the tab order while hidden, and
        # appear when that answer is chosen with the keyboard.
        org_name = page.locator("input[name=organisation_name]")
        individual = page.locator("input[name=acts_as][value=individual]")
        organisation = page.locator("input[name=acts_as][value=organisation]")
        if not individual.is_checked() and not organisation.is_checked():
            individual.focus()
            page.keyboard.press("Space")
        hidden_then = not org_name.is_visible()
        if hidden_then:
            reached = set()
            page.locator("input[name=email]").focus()
            for _ in range(15):
                page.keyboard.press("Tab")
                reached.add(page.evaluate("document.activeElement.name || ''"))
            assert "organisation_name" not in reached, "a hidden field is reachable with Tab"
        # Arrow keys move between radios and select the next answer.
        page.locator("input[name=acts_as]:checked").focus()
        for _ in range(3):
            if organisation.is_checked():
                break
            page.keyboard.press("ArrowDown")
        assert organisation.is_checked()
        assert org_name.is_visible()
        page.keyboard.press("Tab")
        assert page.evaluate("document.activeElement.name") == "organisation_name"
    finally:
        context.close()


def test_errors_are_tied_to_their_fields(chromium, server_url, demo_site):
    """On every form re-rendered with errors, each invalid control names its message
    with aria-describedby, and each message is text (not only a red border)."""
    problems = []
    for role, targets in (
        (None, [p for p in demo_site.pages(None) if p.errors]),
        ("participant", [p for p in demo_site.by_role["participant"] if p.errors]),
        ("organiser", [p for p in demo_site.by_role["organiser"] if p.errors]),
    ):
        context = new_context(chromium, "en")
        try:
            page = context.new_page()
            if role:
                log_in(page, server_url, demo_site.emails[role])
            for target in targets:
                open_page(page, server_url, target)
                found = page.evaluate(
                    """() => {
                      const out = [];
                      const invalid = document.querySelectorAll('main [aria-invalid=true]');
                      for (const el of invalid) {
                        const ids = (el.getAttribute('aria-describedby') || '').split(/\\s+/).filter(Boolean);
                        let group = el.closest('fieldset[aria-describedby]');
                        if (group) ids.push(...group.getAttribute('aria-describedby').split(/\\s+/));
                        const messages = ids.map(id => document.getElementById(id)).filter(Boolean)
                          .filter(m => m.classList.contains('error') && m.textContent.trim());
                        if (!messages.length) out.push(`${el.name || el.id}: no error message in aria-describedby`);
                      }
                      for (const m of document.querySelectorAll('main .error')) {
                        if (!m.id || !document.querySelector(`[aria-describedby~="${m.id}"]`))
                          out.push(`message "${m.textContent.trim().slice(0, 40)}" is tied to no control`);
                      }
                      return [invalid.length, out];
                    }"""
                )
                count, issues = found
                if not count and not page.locator(".flash-error, .form-errors").count():
                    issues.append("no invalid field and no error summary")
                problems += [f"[{role or 'logged out'}] {target.name}: {i}" for i in issues]
        finally:
            context.close()
    assert not problems, "\n".join(problems)
