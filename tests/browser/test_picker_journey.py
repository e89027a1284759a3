"""The contribute form's challenge picker in a real browser (issue 14): typing searches
the consultation's open challenges as one types (static/picker.js), a page at a time;
ticked challenges stay ticked whatever is searched next, and are saved with the proposal.
Enter in the search box searches, it does not send the form."""
from __future__ import annotations

import re

import pytest

from consultations.contributions.models import Contribution, ContributionObjective
from consultations.extensions import db
from tests.browser.test_journey import expect, log_in

pytestmark = pytest.mark.browser


def test_picker_searches_as_one_types_and_keeps_the_ticked(server_url, new_page, make_user, make_consultation,
                                                          make_contribution):
    check = expect()
    author = make_user()
    consultation = make_consultation(title="National consultation")
    rows = [
        Contribution(consultation_id=consultation.id, kind="challenge", title=f"Housing issue {i}", body_md="",
                     body_html="", author_id=author.id, stakeholder_category="other",
                     objectives=[ContributionObjective(objective=7)])
        for i in range(45)
    ]
    db.session.add_all(rows)
    db.session.commit()
    transport = make_contribution(consultation, author=author, kind="challenge", title="Transport between villages")
    consultation_id, transport_id = consultation.id, transport.id

    page = new_page()
    log_in(page, server_url, author.email)
    page.goto(f"{server_url}/consultations/{consultation_id}/contribute")
    # No challenge is listed before a search: the page does not grow with them.
    check(page.locator('input[name="answers"]')).to_have_count(0)
    page.get_by_label("Proposal", exact=True).check()
    page.get_by_label("Title", exact=True).fill("Shared cars")
    page.locator('input[name="objectives"][value="15"]').check()

    search = page.get_by_label("Find challenges to answer")
    search.fill("transport")
    picker = page.locator(".challenge-picker")
    check(picker.get_by_label("Transport between villages")).to_be_visible()
    check(picker.locator('input[name="answers"]')).to_have_count(1)
    picker.get_by_label("Transport between villages").check()

    # A new search: the ticked one stays, the matches come a page (20) at a time.
    search.fill("housing")
    check(picker.locator('input[name="answers"]')).to_have_count(21)
    check(picker.locator('[role="status"]')).to_contain_text("tick the ones")
    picker.get_by_role("button", name="More matches").click()
    check(picker.locator('input[name="answers"]')).to_have_count(41)
    picker.get_by_role("button", name="More matches").click()
    check(picker.locator('input[name="answers"]')).to_have_count(46)
    check(picker.get_by_role("button", name="More matches")).to_be_hidden()
    picker.get_by_label("Housing issue 0", exact=True).check()

    # Enter in the search box searches; it does not send the form.
    search.fill("nothing like this")
    search.press("Enter")
    check(picker.locator('[role="status"]')).to_contain_text("No open challenge matches this search.")
    check(page).to_have_url(re.compile(r"/contribute$"))
    check(picker.locator('input[name="answers"]:checked')).to_have_count(2)

    page.get_by_role("button", name="Submit").click()
    page.wait_for_url(re.compile(r"/contributions/\d+$"))
    answers = page.get_by_role("heading", name="Answers these challenges").locator("xpath=following-sibling::ul[1]")
    check(answers).to_contain_text("Transport between villages")
    check(answers).to_contain_text("Housing issue 0")
    check(answers.locator("li")).to_have_count(2)
    page.goto(f"{server_url}/contributions/{transport_id}")
    check(page.locator("main")).to_contain_text("Shared cars")
