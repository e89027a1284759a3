"""A facilitator captures five contributions from a roundtable in a real browser;
they appear, tagged, under the roundtable and in the consultation's filters."""
from __future__ import annotations

import re
from datetime import date, time, timedelta

import pytest

from consultations.extensions import db
from consultations.roundtables.services import create_roundtable
from tests.browser.test_journey import contribution_titles, expect, log_in

pytestmark = pytest.mark.browser

ROWS = [
    ("challenge", "Communication barriers due to language limitations", ["3", "16"], "migrant_association", ""),
    ("challenge", "Mobility difficulties between villages", ["15"], "public_administration", "municipal"),
    ("proposal", "Rural cars between villages", ["15", "16"], "public_administration", "provincial"),
    ("proposal", "Workshops connecting skills", ["18"], "ngo", ""),
    ("good_practice", "Community gardens with local people", ["16"], "diaspora_organisation", ""),
]


def test_facilitator_captures_five_contributions(server_url, new_page, make_user, make_consultation):
    check = expect()
    facilitator = make_user(role="participant")
    consultation = make_consultation(title="Guadalajara regional platform")
    roundtable = create_roundtable(
        consultation, title="Second roundtable", day=date.today() + timedelta(days=3),
        start=time(10), end=time(12), mode="online", facilitators=[facilitator],
    )
    db.session.commit()
    roundtable_id, consultation_id = roundtable.id, consultation.id

    page = new_page()
    log_in(page, server_url, facilitator.email)
    page.goto(f"{server_url}/roundtables/{roundtable_id}")
    page.get_by_role("link", name="Capture contributions").click()
    page.wait_for_url(re.compile(r"/capture$"))
    for i, (kind, title, objectives, category, level) in enumerate(ROWS):
        row = page.locator("fieldset.capture-row").nth(i)
        row.get_by_label("Kind").select_option(kind)
        row.get_by_label("Title").fill(title)
        row.get_by_label("What was said").fill(f"Said in the room: {title.lower()}.")
        row.get_by_label("GCM objectives").select_option(objectives)
        row.get_by_label("Voice (stakeholder category)").select_option(category)
        if level:
            row.get_by_label("Governance level").select_option(level)
    page.get_by_role("button", name="Save contributions").click()
    page.wait_for_url(re.compile(rf"/roundtables/{roundtable_id}$"))
    check(page.get_by_text("5 contributions saved for this roundtable.")).to_be_visible()
    listed = contribution_titles(page)
    assert sorted(listed) == sorted(r[1] for r in ROWS)
    check(page.locator(".contribution-list").get_by_text("Public administration (provincial)")).to_be_visible()

    # In the consultation's filters, by objective and by stakeholder category.
    page.goto(f"{server_url}/consultations/{consultation_id}")
    page.get_by_label("GCM objective", exact=True).select_option("15")
    page.get_by_role("button", name="Filter").click()
    check(page.get_by_text("2 contributions match these filters")).to_be_visible()
    assert sorted(contribution_titles(page)) == ["Mobility difficulties between villages", "Rural cars between villages"]
    assert "objective=15" in page.url
    page.get_by_label("GCM objective", exact=True).select_option("")
    page.get_by_label("Stakeholder category", exact=True).select_option("migrant_association")
    page.get_by_role("button", name="Filter").click()
    assert contribution_titles(page) == ["Communication barriers due to language limitations"]

    # Each one is tagged and says where it was heard.
    page.get_by_role("link", name="Communication barriers due to language limitations").click()
    check(page.get_by_text("Heard at", exact=False).or_(page.get_by_text("Raised at"))).to_be_visible()
    check(page.get_by_role("link", name=re.compile("16. Empower migrants"))).to_be_visible()
    check(page.get_by_text("captured from the room")).to_be_visible()
