"""Summaries (issue 4): compilation, whose voice, the narrative along the review
questionnaire, versions and publishing, national compilation, privacy."""
from __future__ import annotations

import json
import re
from datetime import datetime, timedelta

import pytest
from sqlalchemy import select

from consultations.extensions import db
from consultations.roundtables.models import Registration, Roundtable, WalkIn
from consultations.summaries import services
from consultations.summaries.models import Summary, SummaryVersion

from .conftest import PASSWORD
from .test_browsing import QueryCounter, _bulk_contributions


def login(client, user):
    response = client.post("/login", data={"email": user.email, "password": PASSWORD})
    assert response.status_code == 302
    return client


def roundtable(consultation, title="Table 1: work and skills", day=15):
    rt = Roundtable(
        consultation_id=consultation.id,
        title=title,
        starts_at=datetime(2024, 2, day, 9, 0),
        ends_at=datetime(2024, 2, day, 11, 0),
    )
    db.session.add(rt)
    db.session.commit()
    return rt


def attend(rt, category, n, level=None, attended=True):
    for i in range(n):
        db.session.add(
            Registration(
                roundtable_id=rt.id,
                person_key=f"{category}-{level}-{i}-{attended}",
                stakeholder_category=category,
                governance_level=level,
                status="confirmed",
                attended=attended,
            )
        )
    db.session.commit()


def walk_in(rt, category, count, level=None):
    db.session.add(WalkIn(roundtable_id=rt.id, stakeholder_category=category, governance_level=level, count=count))
    db.session.commit()


@pytest.fixture
def voices(make_user, make_org):
    """One contributor per stakeholder category (public administration at regional level)."""

    def make(category, level=None, name=None):
        org = make_org(name=name, category=category, governance_level=level)
        return make_user(organisation=org)

    return make


def move(consultation, *targets):
    from consultations.consultations.services import change_state

    for target in targets:
        change_state(consultation, target)
    db.session.commit()


def _meta(consultation, threshold=1, **settings):
    return services.compile_statistics([consultation], services.Settings(privacy_threshold=threshold, **settings))


# -- 1. a consultation's summary ---------------------------------------------------------
def test_counts_by_objective_kind_and_category(app, make_consultation, make_contribution, voices):
    consultation = make_consultation(focus=(1, 8, 16))
    ngo, migrants = voices("ngo"), voices("migrant_association")
    make_contribution(consultation, author=ngo, kind="challenge", objectives=(16,))
    make_contribution(consultation, author=ngo, kind="proposal", objectives=(16, 1))
    make_contribution(consultation, author=migrants, kind="good_practice", objectives=(16,))
    withdrawn = make_contribution(consultation, author=migrants, kind="challenge", objectives=(1,))
    withdrawn.status = "withdrawn"
    db.session.commit()

    meta = _meta(consultation)
    row16 = meta["by_objective"][15]
    assert row16["total"] == 3
    assert row16["kinds"] == {"challenge": 1, "proposal": 1, "good_practice": 1}
    assert row16["categories"]["ngo"] == 2 and row16["categories"]["migrant_association"] == 1
    row1 = meta["by_objective"][0]
    assert row1["total"] == 1  # the withdrawn contribution does not count
    assert meta["totals"]["contributions"] == 3
    assert meta["totals"]["good_practice"] == 1
    assert [f["objective"] for f in meta["focus_without_input"]] == [8]
    assert meta["empty"] is False


def test_participation_counts_contributions_and_attendance(app, make_consultation, make_contribution, voices):
    consultation = make_consultation()
    region = voices("public_administration", "regional")
    make_contribution(consultation, author=region)
    rt = roundtable(consultation)
    attend(rt, "public_administration", 3, level="municipal")
    attend(rt, "ngo", 2, attended=False)  # registered but absent: not counted
    walk_in(rt, "migrant_association", 4)
    other = make_consultation()
    walk_in(roundtable(other), "ngo", 9)  # another consultation's roundtable

    meta = _meta(consultation)
    attendance = {(r["category"], r["governance_level"]): r["count"] for r in meta["participation"]["attendance"]}
    assert attendance == {("public_administration", "municipal"): 3, ("migrant_association", None): 4}
    assert meta["totals"]["attendance"] == 7
    contributions = {(r["category"], r["governance_level"]): r["count"] for r in meta["participation"]["contributions"]}
    assert contributions == {("public_administration", "regional"): 1}


def test_summary_page_shows_contributions_grouped_with_provenance(
    app, client, make_user, make_consultation, make_contribution, voices
):
    organiser = make_user(role="organiser")
    consultation = make_consultation(organiser=organiser, focus=(2, 16))
    rt = roundtable(consultation, title="Thematic table on inclusion")
    item = make_contribution(
        consultation, author=voices("ngo", name="Red Acoge"), kind="good_practice", title="Mentoring programme",
        objectives=(16, 5), name_organisation=True,
    )
    item.roundtable_id = rt.id
    db.session.commit()
    html = login(client, organiser).get(f"/consultations/{consultation.id}/summary").get_data(as_text=True)
    assert "Mentoring programme" in html
    assert "Thematic table on inclusion" in html
    assert "Red Acoge — NGO" in html
    assert "5. " in html and "16. " in html  # grouped under each objective
    assert "Objectives in focus that received no input" in html
    assert "Good practices" in html
    # The charts are shown by URL (drawn once and kept, issue 14), with their text alternatives.
    assert 'alt="Bar chart of contributions' in html
    chart_urls = re.findall(r'<img src="(/charts/[0-9a-f]{64}\.png)"', html)
    assert len(chart_urls) == 2
    for url in chart_urls:
        picture = client.get(url)
        assert picture.status_code == 200 and picture.mimetype == "image/png"
        assert picture.data.startswith(b"\x89PNG")


# -- 2. whose voice ------------------------------------------------------------------------
def test_representation_warnings_follow_the_organisers_thresholds(app, make_consultation, make_contribution, voices):
    consultation = make_consultation()
    ngo, migrants = voices("ngo"), voices("migrant_association")
    for _ in range(7):
        make_contribution(consultation, author=ngo)
    for _ in range(3):
        make_contribution(consultation, author=migrants)
    rt = roundtable(consultation)
    walk_in(rt, "migrant_association", 5)
    walk_in(rt, "academia", 5)

    meta = _meta(consultation, threshold=3)
    warnings = {(w["measure"], w["kind"]) for w in meta["representation"]["warnings"]}
    # 7/10 NGOs > 50%; migrants 30% >= 25%; attendance 50/50 is balanced.
    assert warnings == {("contributions", "dominance")}
    shares = {s["category"]: s["percent"] for s in meta["representation"]["contributions"]["shares"]}
    assert shares["ngo"] == 70.0 and shares["migrant_association"] == 30.0

    strict = _meta(consultation, threshold=3, migrant_min_percent=40, dominance_max_percent=80)
    assert {(w["measure"], w["kind"]) for w in strict["representation"]["warnings"]} == {
        ("contributions", "migrant_diaspora_low")
    }
    assert "below the 40% threshold" in strict["representation"]["warnings"][0]["message"]


def test_settings_are_validated_and_re_rendered(app, client, make_user, make_consultation):
    organiser = make_user(role="organiser")
    consultation = make_consultation(organiser=organiser)
    login(client, organiser)
    url = f"/consultations/{consultation.id}/summary/settings"
    for data in (
        {"privacy_threshold": "0", "migrant_min_percent": "25", "dominance_max_percent": "50"},
        {"privacy_threshold": "3", "migrant_min_percent": "101", "dominance_max_percent": "50"},
        {"privacy_threshold": "abc", "migrant_min_percent": "25", "dominance_max_percent": "-5"},
        {"privacy_threshold": "99999999999999999999", "migrant_min_percent": "", "dominance_max_percent": "50"},
    ):
        response = client.post(url, data={**data, "revision": "0"})
        assert response.status_code == 422, data
        html = response.get_data(as_text=True)
        assert "Give a whole number" in html
        assert 'aria-invalid="true"' in html
    assert db.session.scalar(select(Summary)) is None

    response = client.post(url, data={"privacy_threshold": "5", "migrant_min_percent": "30", "dominance_max_percent": "60", "revision": "0"})
    assert response.status_code == 302
    summary = db.session.scalar(select(Summary).where(Summary.consultation_id == consultation.id))
    assert (summary.privacy_threshold, summary.migrant_min_percent, summary.dominance_max_percent) == (5, 30, 60)
    with pytest.raises(services.SummaryError):
        services.update_settings(consultation, seen_revision=summary.revision, privacy_threshold=0,
                                 migrant_min_percent=25, dominance_max_percent=50)


# -- 3. the review's structure -----------------------------------------------------------
def test_sections_follow_the_questionnaire():
    keys = [s.key for s in services.review_sections()]
    assert keys == ["1", "2", *(f"2{k}" for k in "abcdefghijk"), "3", "4", "5"]
    assert services.section("2k").default_objectives == (8,)
    assert services.section("2z") is None and services.section("../x") is None


def test_mapping_proposals_pin_and_drop(app, make_consultation, make_contribution, voices):
    consultation = make_consultation()
    ngo = voices("ngo")
    rescue = make_contribution(consultation, author=ngo, kind="good_practice", title="Rescue at sea", objectives=(8,))
    boats = make_contribution(consultation, author=ngo, kind="challenge", title="Unsafe boats", objectives=(8,))
    housing = make_contribution(consultation, author=ngo, kind="challenge", title="Housing", objectives=(15,))
    summary = services.summary_for(consultation)

    counts = services.section_proposal_counts([consultation.id], {"2k": [8], "2i": [15]}, {})
    assert counts == {"2k": 2, "2i": 1}

    services.set_pin(consultation, "2k", rescue.id, "pin", seen_revision=summary.revision)
    summary = services.summary_for(consultation)
    services.set_pin(consultation, "2k", boats.id, "drop", seen_revision=summary.revision)
    with pytest.raises(services.SummaryError, match="not among this section's proposals"):
        services.set_pin(consultation, "2k", housing.id, "pin", seen_revision=summary.revision + 1)
    db.session.commit()
    state = services.draft_state(services.summary_for(consultation))["2k"]
    assert state["pinned"] == [rescue.id] and state["dropped"] == [boats.id]

    # The organiser maps objective 15 to section 2k as well.
    summary = services.summary_for(consultation)
    services.update_section(consultation, "2k", seen_revision=summary.revision, text="**Search and rescue**", objectives=[8, 15])
    db.session.commit()
    summary = services.summary_for(consultation)
    assert services.effective_objectives(summary, services.section("2k")) == [8, 15]
    sections = {s["key"]: s for s in services.compile_sections(
        [consultation], states={consultation.id: services.draft_state(summary)},
        mapping={"2k": [8, 15]},
    )}
    assert sections["2k"]["proposed_count"] == 2  # rescue, housing; the dropped one is gone
    assert [c["title"] for c in sections["2k"]["pinned"]] == ["Rescue at sea"]
    assert "<strong>Search and rescue</strong>" in sections["2k"]["narratives"][0]["text_html"]

    # Back to the default mapping.
    services.update_section(consultation, "2k", seen_revision=summary.revision, text="", objectives=None)
    db.session.commit()
    assert services.effective_objectives(services.summary_for(consultation), services.section("2k")) == [8]


def test_section_editor_over_http(app, client, make_user, make_consultation, make_contribution, voices):
    organiser = make_user(role="organiser")
    consultation = make_consultation(organiser=organiser)
    item = make_contribution(consultation, author=voices("ngo"), kind="good_practice", title="Rescue", objectives=(8,))
    login(client, organiser)
    url = f"/consultations/{consultation.id}/summary/sections/2k"
    html = client.get(url).get_data(as_text=True)
    assert "Improvement of search and rescue activities" in html and "Rescue" in html

    response = client.post(url, data={"text": "x" * 20_001, "use_default": "y", "revision": "0"})
    assert response.status_code == 422
    assert "x" * 100 in response.get_data(as_text=True)  # the text is kept
    response = client.post(url, data={"text": "bad \x07 bell", "use_default": "y", "revision": "0"})
    assert response.status_code == 422 and "control characters" in response.get_data(as_text=True)
    response = client.post(url, data={"text": "ok", "objectives": ["99"], "revision": "0"})
    assert response.status_code == 422

    assert client.post(url, data={"text": "Spain *rescues*", "use_default": "y", "revision": "0"}).status_code == 302
    assert client.post(url + "/pins", data={"contribution_id": item.id, "action": "pin", "revision": "1"}).status_code == 302
    assert client.post(url + "/pins", data={"contribution_id": "abc", "action": "pin", "revision": "2"}).status_code == 400
    assert client.post(url + "/pins", data={"contribution_id": 999999, "action": "pin", "revision": "2"}).status_code == 422
    # A stale page: told, nothing changes.
    response = client.post(url + "/pins", data={"contribution_id": item.id, "action": "drop", "revision": "0"}, follow_redirects=True)
    assert "Someone else changed or published this summary" in response.get_data(as_text=True)
    state = services.draft_state(services.summary_for(consultation))["2k"]
    assert state["pinned"] == [item.id] and state["dropped"] == []
    assert client.get(f"/consultations/{consultation.id}/summary/sections/9z").status_code == 404


def test_publish_freezes_versions_and_drafts_stay_private(
    app, client, make_user, make_consultation, make_contribution, voices
):
    organiser, reviewer = make_user(role="organiser"), make_user(role="reviewer")
    consultation = make_consultation(organiser=organiser, state="closed")
    make_contribution_state = consultation.state
    assert make_contribution_state == "closed"
    summary = services.summary_for(consultation)
    services.update_section(consultation, "1", seen_revision=summary.revision, text="First text", objectives=None)
    db.session.commit()
    v1 = services.publish(consultation, organiser, seen_revision=services.summary_for(consultation).revision)
    db.session.commit()
    services.update_section(consultation, "1", seen_revision=services.summary_for(consultation).revision, text="Second draft", objectives=None)
    db.session.commit()

    reviewer_client = login(app.test_client(), reviewer)
    html = reviewer_client.get(f"/consultations/{consultation.id}/summary").get_data(as_text=True)
    assert "First text" in html and "Second draft" not in html  # drafts are private
    organiser_client = login(app.test_client(), organiser)
    assert "Second draft" in organiser_client.get(f"/consultations/{consultation.id}/summary").get_data(as_text=True)

    response = organiser_client.post(
        f"/consultations/{consultation.id}/summary/publish",
        data={"revision": str(services.summary_for(consultation).revision), "note": "Second pass"},
    )
    assert response.status_code == 302 and response.headers["Location"].endswith("/summary/versions/2")
    versions = list(db.session.scalars(select(SummaryVersion).order_by(SummaryVersion.number)))
    assert [v.number for v in versions] == [1, 2]
    assert versions[0].document["sections"][0]["narratives"][0]["text_md"] == "First text"
    assert versions[1].document["sections"][0]["narratives"][0]["text_md"] == "Second draft"
    assert versions[0].document["status"] == "published" and versions[0].published_at <= versions[1].published_at
    assert v1.number == 1
    # Earlier versions stay downloadable.
    response = reviewer_client.get(f"/consultations/{consultation.id}/summary/versions/1/download.json")
    assert response.status_code == 200
    assert json.loads(response.get_data())["sections"][0]["narratives"][0]["text_md"] == "First text"
    listing = reviewer_client.get(f"/consultations/{consultation.id}/summary/versions").get_data(as_text=True)
    assert "Version 2" in listing and "Second pass" in listing

    # Not public until the consultation is published...
    anonymous = app.test_client()
    assert anonymous.get(f"/consultations/{consultation.id}/summary").status_code == 404
    assert anonymous.get(f"/consultations/{consultation.id}/summary/versions/1").status_code == 404
    from consultations.consultations.services import change_state

    change_state(consultation, "published")
    db.session.commit()
    # ... then anyone reads the latest published version.
    response = anonymous.get(f"/consultations/{consultation.id}/summary")
    assert response.status_code == 302 and response.headers["Location"].endswith("/summary/versions/2")
    page = anonymous.get(f"/consultations/{consultation.id}/summary/versions/2").get_data(as_text=True)
    assert "Second draft" in page
    assert anonymous.get(f"/consultations/{consultation.id}/summary/versions/2/download.md").status_code == 200
    assert anonymous.get(f"/consultations/{consultation.id}/summary/download.md").status_code == 302  # live: log in


def test_a_draft_consultation_cannot_publish_its_summary(app, make_user, make_consultation):
    organiser = make_user(role="organiser")
    consultation = make_consultation(organiser=organiser, state="draft")
    with pytest.raises(services.SummaryError, match="Open the consultation"):
        services.publish(consultation, organiser, seen_revision=0)


def test_concurrent_publish_one_wins_the_other_is_told(app, make_user, make_consultation, make_contribution):
    first, second = make_user(role="organiser"), make_user(role="organiser")
    consultation = make_consultation(organiser=first, state="closed")
    from consultations.consultations.services import add_organiser

    add_organiser(consultation, second.email)
    db.session.commit()
    seen = services.summary_for(consultation).revision  # both loaded the page at this revision

    client_a = login(app.test_client(), first)
    client_b = login(app.test_client(), second)
    url = f"/consultations/{consultation.id}/summary/publish"
    a = client_a.post(url, data={"revision": str(seen)})
    b = client_b.post(url, data={"revision": str(seen)})
    assert a.status_code == 302
    assert b.status_code == 409
    assert "Someone else changed or published this summary" in b.get_data(as_text=True)
    assert db.session.scalar(select(SummaryVersion.number)) == 1
    assert len(list(db.session.scalars(select(SummaryVersion)))) == 1

    # At the service level too: the stale revision is refused.
    with pytest.raises(services.SummaryConflict):
        services.publish(consultation, second, seen_revision=seen)
    db.session.rollback()
    # Garbage revisions are refused, not a 500.
    assert client_b.post(url, data={"revision": "not-a-number"}).status_code == 409
    assert client_b.post(url, data={}).status_code == 422


def test_publish_needs_the_csrf_token(csrf_app, make_user, make_consultation):
    organiser = make_user(role="organiser")
    consultation = make_consultation(organiser=organiser, state="closed")
    client = csrf_app.test_client()
    html = client.get("/login").get_data(as_text=True)
    import re

    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', html) or re.search(
        r'name="csrf_token" value="([^"]+)"', html
    )
    client.post("/login", data={"email": organiser.email, "password": PASSWORD, "csrf_token": token.group(1)})
    response = client.post(f"/consultations/{consultation.id}/summary/publish", data={"revision": "0"})
    assert response.status_code == 400
    assert db.session.scalar(select(SummaryVersion)) is None


# -- 4. national compilation ------------------------------------------------------------------
def test_national_compilation_compares_consultations(app, client, make_user, make_consultation, make_contribution, voices):
    reviewer = make_user(role="reviewer")
    civil = make_consultation(title="Civil-society day", focus=(8,))
    admins = make_consultation(title="Inter-administration day", focus=(8,))
    ngo, region = voices("ngo"), voices("public_administration", "regional")
    for _ in range(3):
        make_contribution(civil, author=ngo, kind="good_practice", objectives=(8,))
    for _ in range(4):
        make_contribution(admins, author=region, objectives=(16,))
    move(civil, "closed", "published")
    move(admins, "closed")

    compiled = services.compile_national([civil, admins])
    assert compiled.meta["totals"]["contributions"] == 7
    rows = {r["objective"]: r["counts"] for r in compiled.meta["comparison"]["rows"]}
    assert rows[8] == [3, 0] and rows[16] == [0, 4]
    assert compiled.meta["focus_without_input"] == [
        {"objective": 8, "title": compiled.meta["focus_without_input"][0]["title"], "consultation_ids": [admins.id]}
    ]
    items = list(compiled.contributions())
    assert len(items) == 7 and {i["consultation"] for i in items} == {"Civil-society day", "Inter-administration day"}

    html = login(client, reviewer).get(f"/summaries/national?c={civil.id}&c={admins.id}").get_data(as_text=True)
    assert "Consultations compared by objective" in html
    assert "National compilation of 2 consultations" in html
    assert f"download.csv?c={civil.id}&amp;c={admins.id}" in html


def test_national_compilation_keeps_each_consultations_published_pins(
    app, make_user, make_consultation, make_contribution, voices
):
    organiser = make_user(role="organiser")
    civil = make_consultation(title="Civil-society day", organiser=organiser)
    region = make_consultation(title="Regional platform", organiser=organiser)
    ngo = voices("ngo")
    rescue = make_contribution(civil, author=ngo, kind="good_practice", title="Rescue at sea", objectives=(8,))
    boats = make_contribution(civil, author=ngo, kind="challenge", title="Unsafe boats", objectives=(8,))
    make_contribution(region, author=ngo, kind="challenge", title="Regional boats", objectives=(8,))
    services.set_pin(civil, "2k", rescue.id, "pin", seen_revision=services.summary_for(civil).revision)
    services.set_pin(civil, "2k", boats.id, "drop", seen_revision=services.summary_for(civil).revision)
    db.session.commit()
    # A pin of the draft only is not in the compilation: it reads published versions.
    assert {s["key"]: s for s in services.compile_national([civil, region]).meta["sections"]}["2k"]["pinned"] == []
    services.publish(civil, organiser, seen_revision=services.summary_for(civil).revision)
    db.session.commit()

    sections = {s["key"]: s for s in services.compile_national([civil, region]).meta["sections"]}
    assert [c["title"] for c in sections["2k"]["pinned"]] == ["Rescue at sea"]
    assert sections["2k"]["pinned"][0]["consultation"] == "Civil-society day"
    assert sections["2k"]["dropped"] == [boats.id]
    # The region's contribution is still proposed (objective 8), the dropped one is not.
    assert sections["2k"]["proposed_count"] == 2


def test_summaries_count_contributions_by_language(app, make_consultation, make_contribution, voices):
    consultation = make_consultation(language="es", accepted_languages=["es", "ar", "en"])
    ngo = voices("ngo")
    for _ in range(4):
        make_contribution(consultation, author=ngo, language="es")
    for _ in range(3):
        make_contribution(consultation, author=ngo, language="ar", title="مقترح")
    make_contribution(consultation, author=ngo, language="en")
    withdrawn = make_contribution(consultation, author=ngo, language="en")
    withdrawn.status = "withdrawn"
    db.session.commit()
    meta = _meta(consultation, threshold=3)
    rows = {r["language"]: r for r in meta["by_language"]}
    assert rows["es"]["count"] == 4 and rows["es"]["label"] == "Spanish"
    # One English contribution (the withdrawn one does not count). The annex lists each
    # contribution's language, so hiding this count would protect nobody (issue 12): it
    # is published, and agrees with the annex.
    assert rows["en"]["count"] == 1 and rows["ar"]["count"] == 3
    annex = list(services.compile_summary([consultation], settings=services.Settings(privacy_threshold=3), states={}).contributions())
    assert sorted(c["language"] for c in annex) == ["ar"] * 3 + ["en"] + ["es"] * 4
    assert [r["language"] for r in meta["by_language"]] == ["es", "ar", "en"]
    assert _meta(consultation, threshold=1)["by_language"] == [
        {"language": "es", "label": "Spanish", "count": 4},
        {"language": "ar", "label": "Arabic", "count": 3},
        {"language": "en", "label": "English", "count": 1},
    ]


def test_national_selection_is_refused_when_not_allowed(app, make_user, make_consultation):
    organiser, other, reviewer = make_user(role="organiser"), make_user(role="organiser"), make_user(role="reviewer")
    mine = make_consultation(organiser=organiser, state="open")
    theirs_open = make_consultation(organiser=other, state="open")
    theirs_draft = make_consultation(organiser=other, state="draft")

    org_client = login(app.test_client(), organiser)
    assert org_client.get(f"/summaries/national?c={mine.id}").status_code == 200
    assert org_client.get(f"/summaries/national?c={mine.id}&c={theirs_open.id}").status_code == 403
    assert org_client.get(f"/summaries/national?c={mine.id}&c={theirs_draft.id}").status_code == 404
    assert org_client.get(f"/summaries/national/download.json?c={theirs_draft.id}").status_code == 404
    assert org_client.get("/summaries/national?c=999999").status_code == 404

    rev_client = login(app.test_client(), reviewer)
    assert rev_client.get(f"/summaries/national?c={mine.id}&c={theirs_open.id}").status_code == 200
    assert rev_client.get(f"/summaries/national?c={theirs_draft.id}").status_code == 404
    response = rev_client.get("/summaries/national?c=abc")
    assert response.status_code == 422 and "could not be coerced" in response.get_data(as_text=True)
    assert rev_client.get("/summaries/national?c=").status_code == 422
    assert rev_client.get("/summaries/national/download.csv").status_code == 400
    assert rev_client.get(f"/summaries/national/download.exe?c={mine.id}").status_code == 404
    many = "&".join(f"c={i}" for i in range(1, 260))
    assert rev_client.get(f"/summaries/national?{many}").status_code == 422

    participant = login(app.test_client(), make_user())
    assert participant.get(f"/summaries/national?c={mine.id}").status_code == 403


# -- 7. privacy --------------------------------------------------------------------------
def test_small_counts_are_suppressed_and_no_personal_data_leaks(
    app, client, make_user, make_org, make_consultation, make_contribution
):
    organiser = make_user(role="organiser", name="Olga Organiser", email="olga@ministry.example")
    consultation = make_consultation(organiser=organiser)
    named_org = make_org(name="Asociación Named", category="migrant_association")
    hidden_org = make_org(name="Secret Collective", category="ngo")
    named = make_user(organisation=named_org, name="Nadia Named", email="nadia@named.example")
    hidden = make_user(organisation=hidden_org, name="Hector Hidden", email="hector@hidden.example")
    make_contribution(consultation, author=named, name_organisation=True, objectives=(3,))
    for _ in range(4):
        make_contribution(consultation, author=hidden, name_organisation=False, objectives=(3,))
    move(consultation, "closed")

    compiled = services.compile_for_viewer(consultation, organiser)
    meta = compiled.meta
    assert meta["suppression"]["threshold"] == 3 and meta["suppression"]["applied"] is True
    shares = {s["category"]: s for s in meta["representation"]["contributions"]["shares"]}
    # A hidden count says why it is hidden, never as a number (issue 12).
    assert shares["migrant_association"]["count"] == services.PRIMARY and shares["migrant_association"]["percent"] is None
    # 1 + 4 = 5 contributions are published: the 4 would give the 1 away, so it is hidden too
    # (the NGO category is not named either: both are counted as "other categories, combined").
    assert meta["representation"]["contributions"]["total"] == 5
    assert shares["ngo"]["count"] == services.COMPLEMENTARY and shares["ngo"]["percent"] is None
    assert meta["suppression"]["complementary"] is True
    assert meta["by_objective"][2]["categories"]["migrant_association"] == services.PRIMARY
    assert meta["by_objective"][2]["categories"]["ngo"] == services.COMPLEMENTARY
    assert "fewer than 3 contributions" in meta["representation"]["warnings"][0]["message"]

    login(client, organiser)
    outputs = [client.get(f"/consultations/{consultation.id}/summary").get_data(as_text=True)]
    for fmt in ("csv", "json", "md"):
        response = client.get(f"/consultations/{consultation.id}/summary/download.{fmt}")
        outputs.append(response.get_data(as_text=True))
        response.close()
    summary_page = outputs[0]
    assert "&lt;3" in summary_page and "Counts from 1 to 2 are not published" in summary_page
    for text in outputs:
        for secret in ("Nadia Named", "nadia@named.example", "Hector Hidden", "hector@hidden.example",
                       "Secret Collective", "olga@ministry.example"):
            assert secret not in text
    assert "Asociación Named" in outputs[2]  # it agreed to be named
    assert "<3" in outputs[3]  # the Markdown table


def test_complementary_suppression_protects_a_lone_hidden_count():
    assert services.protect({"a": 10, "b": 2, "c": 5, "d": 0}, 3) == ({"a": 10, "b": None, "c": None, "d": 0}, True)
    # Two hidden counts already protect each other; nothing more is hidden.
    assert services.protect({"a": 10, "b": 2, "c": 1}, 3) == ({"a": 10, "b": None, "c": None}, False)
    # A lone hidden count that is the whole total: the total is hidden as well, nothing to add.
    assert services.protect({"a": 2, "b": 0}, 3) == ({"a": None, "b": 0}, False)
    assert services.protect({"a": 4, "b": 7}, 3) == ({"a": 4, "b": 7}, False)
    # Ties go to the same cell every time (stable outputs).
    assert services.protect({"b": 5, "a": 5, "c": 1}, 3)[0] == {"b": 5, "a": None, "c": None}


def test_hidden_counts_that_could_only_be_ones_are_protected():
    # Two hidden counts summing to 2 can only be 1 and 1: a third count goes with them.
    assert services.protect({"a": 1, "b": 1, "c": 20, "d": 9}, 3) == ({"a": None, "b": None, "c": 20, "d": None}, True)
    # Two small counts that can only be threshold - 1 each (2 + 2 at threshold 3).
    assert services.protect({"a": 2, "b": 2, "c": 20, "d": 9}, 3)[0] == {"a": None, "b": None, "c": 20, "d": None}
    # 1 + 2 is ambiguous (1+2 or 2+1): nothing more to hide.
    assert services.protect({"a": 1, "b": 2, "c": 20}, 3) == ({"a": None, "b": None, "c": 20}, False)


def test_other_tables_and_warnings_do_not_give_a_protected_count_back(app, make_consultation, make_contribution, voices):
    """A category hidden in the shares table (to protect a small one) is hidden in the
    participation table too, and no warning quotes a share that would give it back."""
    consultation = make_consultation()
    migrants, ngo = voices("migrant_association"), voices("ngo")
    for _ in range(2):
        make_contribution(consultation, author=migrants)
    for _ in range(30):
        make_contribution(consultation, author=ngo)
    meta = _meta(consultation, threshold=5)
    shares = {s["category"]: s["count"] for s in meta["representation"]["contributions"]["shares"]}
    assert shares["migrant_association"] == services.PRIMARY and shares["ngo"] == services.COMPLEMENTARY  # 30 protects 2
    assert meta["representation"]["contributions"]["total"] == 32
    # Neither category is named in the voice table either: one combined row (issue 12).
    assert [(r["category"], r["count"]) for r in meta["participation"]["contributions"]] == [("combined", 32)]
    warnings = {w["kind"]: w for w in meta["representation"]["warnings"]}
    assert warnings["dominance"]["percent"] is None and "93" not in warnings["dominance"]["message"]
    assert "more than 50%" in warnings["dominance"]["message"]
    assert warnings["migrant_diaspora_low"]["percent"] is None


def test_the_migrant_share_is_not_quoted_when_one_of_its_parts_is_hidden(app, make_consultation, make_contribution, voices):
    consultation = make_consultation()
    for category, n in (("migrant_association", 2), ("diaspora_organisation", 8), ("trade_union", 6), ("ngo", 30)):
        author = voices(category)
        for _ in range(n):
            make_contribution(consultation, author=author)
    meta = _meta(consultation, threshold=5)
    warning = next(w for w in meta["representation"]["warnings"] if w["kind"] == "migrant_diaspora_low")
    assert warning["percent"] is None and "21.7" not in warning["message"]


def test_no_published_row_gives_a_hidden_count_away(app, make_consultation, make_contribution, voices):
    """In every row of every table with a published total, a hidden count is never alone."""
    consultation = make_consultation(title="Small consultation")
    ngo, migrants, union = voices("ngo"), voices("migrant_association"), voices("trade_union")
    for _ in range(6):
        make_contribution(consultation, author=ngo, kind="challenge", objectives=(16,))
    for _ in range(4):
        make_contribution(consultation, author=union, kind="proposal", objectives=(16,))
    make_contribution(consultation, author=migrants, kind="good_practice", objectives=(16,))
    meta = _meta(consultation, threshold=3)
    row = meta["by_objective"][15]
    assert row["total"] == 11
    # Counts by kind are published: the annex lists every contribution with its kind, so
    # hiding them protected nobody (issue 12). What is protected is the category.
    assert row["kinds"] == {"challenge": 6, "proposal": 4, "good_practice": 1}
    assert [services.is_hidden(v) for v in row["categories"].values()].count(True) == 2
    assert meta["totals"]["good_practice"] == 1 and meta["totals"]["proposal"] == 4
    rows = [row["kinds"], row["categories"], {k: meta["totals"][k] for k in ("challenge", "proposal", "good_practice")},
            {s["category"]: s["count"] for s in meta["representation"]["contributions"]["shares"]}]
    for published in rows:
        assert [services.is_hidden(v) for v in published.values()].count(True) != 1
    assert "a second count of the same row was hidden too" in meta["suppression"]["note"]


# -- the page stays cheap as data grows -------------------------------------------------------
def _count(app, url, user):
    client = login(app.test_client(), user)
    with app.app_context():
        db.session.remove()
        with QueryCounter(db.engine) as counter:
            response = client.get(url)
            assert response.status_code == 200
    return counter.count


def test_summary_page_query_count_is_constant(app, make_user, make_org, make_consultation):
    organiser = make_user(role="organiser")
    consultation = make_consultation(organiser=organiser)
    authors = [make_user(organisation=make_org(category=c)) for c in ("ngo", "migrant_association")] + [make_user()]
    _bulk_contributions(consultation, 20, authors)
    rt = roundtable(consultation)
    walk_in(rt, "ngo", 3)
    url = f"/consultations/{consultation.id}/summary"
    _count(app, "/healthz", organiser)
    small = _count(app, url, organiser)
    _bulk_contributions(consultation, 600, authors)
    attend(rt, "academia", 5)
    assert _count(app, url, organiser) == small
    assert _count(app, url + "?page=7&objective=16", organiser) == small


def test_odd_query_strings_never_fail(app, client, make_user, make_consultation, make_contribution):
    organiser = make_user(role="organiser")
    consultation = make_consultation(organiser=organiser)
    make_contribution(consultation)
    login(client, organiser)
    base = f"/consultations/{consultation.id}/summary"
    for query in ("?page=999999", "?page=-3", "?page=abc", "?objective=99", "?objective=abc", "?kind=<script>",
                  "?gp=0", "?objective=1&kind=challenge&page=2"):
        response = client.get(base + query)
        assert response.status_code == 200, query
    assert client.get(f"/consultations/{consultation.id}/summary/versions?page=abc").status_code == 200
    assert client.get("/consultations/999999/summary").status_code == 404
    assert client.get(f"/consultations/{consultation.id}/summary/versions/0").status_code == 404
