"""End-to-end journeys through the real UI in headless Chromium.

Only the starting accounts are created directly (with the factories); everything
else — creating and opening a consultation, contributing, filtering — goes
through the pages, forms and buttons a person would use, with CSRF switched on.
"""
from __future__ import annotations

import os
import re
from pathlib import Path

import pytest

from tests.conftest import PASSWORD

pytestmark = pytest.mark.browser

SCREENSHOTS = Path(__file__).resolve().parents[2] / "docs" / "screenshots"

CONSULTATION_TITLE = "Local council on inclusion, Valencia 2024"
PROPOSAL_TITLE = "Multilingual welcome desks in every district"


def expect():
    from playwright.sync_api import expect as _expect

    return _expect


def log_in(page, base_url: str, email: str) -> None:
    page.goto(f"{base_url}/login")
    page.get_by_label("E-mail", exact=True).fill(email)
    page.get_by_label("Password", exact=True).fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    expect()(page.get_by_role("button", name="Log out")).to_be_visible()


def contribution_titles(page) -> list[str]:
    return [t.strip() for t in page.locator(".contribution-list h3").all_inner_texts()]


def test_organiser_opens_consultation_and_participant_contributes(server_url, new_page, make_user, make_org):
    check = expect()
    organiser_email = make_user(role="organiser").email
    participant_email = make_user(
        role="participant", organisation=make_org(category="migrant_association")
    ).email

    # -- the organiser creates a draft and opens it --------------------------
    page = new_page()
    log_in(page, server_url, organiser_email)
    page.get_by_role("link", name="New consultation").click()
    page.wait_for_url(re.compile(r"/consultations/new$"))
    check(page.get_by_role("heading", name="New consultation")).to_be_visible()

    page.get_by_label("Title", exact=True).fill(CONSULTATION_TITLE)
    page.get_by_label("Kind", exact=True).select_option(label="Local council on immigration")
    page.get_by_label("Description", exact=True).fill("How can **every district** welcome newcomers?\n\n- housing\n- language")
    page.get_by_label("Territory", exact=True).fill("City of Valencia")
    page.get_by_label("Opens on", exact=True).fill("2024-03-01")
    page.get_by_label("Closes on", exact=True).fill("2024-04-30")
    page.get_by_label("3. Provide accurate and timely information", exact=False).check()
    page.locator('input[name="focus"][value="16"]').check()
    page.get_by_role("button", name="Create draft").click()

    page.wait_for_url(re.compile(r"/consultations/\d+$"))
    consultation_url = page.url
    check(page.locator(".flashes")).to_contain_text("Consultation created as a draft")
    check(page.get_by_role("heading", level=1)).to_have_text(CONSULTATION_TITLE)
    check(page.locator(".manage")).to_contain_text("Status: Draft")
    focus = page.locator(".objective-list")
    check(focus).to_contain_text("3. Provide accurate and timely information")
    check(focus).to_contain_text("16. Empower migrants and societies")
    check(page.locator(".prose strong")).to_have_text("every district")

    page.get_by_role("button", name="Open for contributions").click()
    page.wait_for_url(consultation_url)
    check(page.locator(".flashes")).to_contain_text("The consultation is now open.")
    check(page.locator(".manage")).to_contain_text("Status: Open")
    check(page.get_by_role("button", name="Open for contributions")).to_have_count(0)

    # -- a participant of a migrant association contributes ------------------
    page = new_page()  # a fresh browser context: no organiser cookies
    log_in(page, server_url, participant_email)
    page.get_by_role("link", name="Consultations", exact=True).click()
    page.get_by_role("link", name=CONSULTATION_TITLE).click()
    page.wait_for_url(consultation_url)
    check(page.locator(".manage")).to_have_count(0)
    check(page.locator("p.count")).to_have_text("0 contributions")

    page.get_by_role("link", name="Contribute", exact=True).click()
    page.wait_for_url(re.compile(r"/consultations/\d+/contribute$"))
    check(page.get_by_role("heading", name="Contribute")).to_be_visible()
    check(page.locator("main")).to_contain_text("(Migrant association)")

    page.get_by_label("Proposal", exact=True).check()
    page.get_by_label("Title", exact=True).fill(PROPOSAL_TITLE)
    page.get_by_label("Text", exact=True).fill("Open a desk with **interpreters** in every district.")
    objectives = page.get_by_role("group", name="GCM objectives", exact=True)
    objectives.get_by_label("3. Provide accurate and timely information", exact=False).check()
    objectives.locator('input[name="objectives"][value="16"]').check()
    check(page.locator('input[name="objectives"]:checked')).to_have_count(2)
    page.get_by_role("button", name="Submit").click()

    page.wait_for_url(re.compile(r"/contributions/\d+$"))
    contribution_url = page.url
    check(page.locator(".flashes")).to_contain_text("Thank you: your contribution is published.")
    check(page.get_by_role("heading", level=1)).to_have_text(PROPOSAL_TITLE)
    check(page.locator(".contribution-detail .meta")).to_contain_text("Proposal")
    check(page.locator(".contribution-detail .meta")).to_contain_text(CONSULTATION_TITLE)
    check(page.locator(".contribution-detail .prose strong")).to_have_text("interpreters")
    tagged = page.locator(".contribution-detail .objective-list")
    check(tagged).to_contain_text("3. Provide accurate and timely information")
    check(tagged).to_contain_text("16. Empower migrants and societies")
    check(page.locator(".contribution-detail .facts")).to_contain_text("Migrant association")
    check(page.locator(".permalink")).to_contain_text(contribution_url)

    # -- filtering the consultation's contributions by objective -------------
    page.get_by_role("link", name=CONSULTATION_TITLE).click()
    page.wait_for_url(consultation_url)
    check(page.locator("p.count")).to_have_text("1 contribution")
    filters = page.get_by_role("search", name="Filter contributions")

    filters.get_by_label("GCM objective", exact=True).select_option("16")
    filters.get_by_role("button", name="Filter").click()
    page.wait_for_url(re.compile(r"[?&]objective=16(&|$)"))
    check(page.locator("p.count")).to_have_text("1 contribution match these filters")
    check(page.locator(".contribution-list")).to_contain_text(PROPOSAL_TITLE)
    check(filters.get_by_label("GCM objective", exact=True)).to_have_value("16")

    filters.get_by_label("GCM objective", exact=True).select_option("5")
    filters.get_by_role("button", name="Filter").click()
    page.wait_for_url(re.compile(r"[?&]objective=5(&|$)"))
    check(page.locator("p.count")).to_have_text("0 contributions match these filters")
    check(page.get_by_text(PROPOSAL_TITLE)).to_have_count(0)

    # -- and the objective's page lists it across consultations --------------
    page.goto(f"{server_url}/objectives/16")
    check(page.get_by_role("heading", level=1)).to_contain_text("Objective 16: Empower migrants")
    check(page.locator("p.count")).to_have_text("1 contribution")
    assert contribution_titles(page) == [PROPOSAL_TITLE]
    item = page.locator(".contribution-list li.contribution")
    check(item).to_contain_text("Proposal")
    check(item).to_contain_text("Migrant association")
    check(item).to_contain_text(CONSULTATION_TITLE)
    item.get_by_role("link", name=PROPOSAL_TITLE).click()
    page.wait_for_url(contribution_url)

    page.goto(f"{server_url}/objectives/5")
    check(page.locator("p.count")).to_have_text("0 contributions")


@pytest.mark.skipif(
    os.environ.get("MESA_SCREENSHOTS") != "1",
    reason="set MESA_SCREENSHOTS=1 to refresh docs/screenshots/*.png",
)
def test_readme_screenshots(app, server_url, browser_page):
    from consultations.demo import load_demo
    from consultations.extensions import db

    load_demo()
    db.session.commit()
    check = expect()
    page = browser_page
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)

    page.goto(server_url + "/")
    page.wait_for_load_state("networkidle")
    page.screenshot(path=str(SCREENSHOTS / "home.png"), full_page=True)

    page.goto(server_url + "/consultations/")
    page.get_by_role("link", name=re.compile("Guadalajara")).first.click()
    page.wait_for_url(re.compile(r"/consultations/\d+$"))
    check(page.get_by_role("heading", level=1)).to_contain_text("Guadalajara")
    page.wait_for_load_state("networkidle")
    page.screenshot(path=str(SCREENSHOTS / "consultation.png"), full_page=True)
