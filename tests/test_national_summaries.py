"""Saved national summaries (issue 12): reviewers keep a national compilation with its
own narrative and its pins, drops and order per question, and the page and every
download use them."""
from __future__ import annotations

import io
import json

import pytest
from docx import Document

from consultations.extensions import db
from consultations.summaries import services
from consultations.summaries.models import SectionPin, Summary


def _docx_text(data: bytes) -> str:
    document = Document(io.BytesIO(data))
    parts = [p.text for p in document.paragraphs]
    for table in document.tables:
        for row in table.rows:
            parts.extend(cell.text for cell in row.cells)
    return "\n".join(parts)


@pytest.fixture
def two(make_user, make_org, make_consultation, make_contribution):
    """Two consultations: good practices on one, challenges on the other."""
    organiser = make_user(role="organiser")
    civil = make_consultation(organiser=organiser, title="Civil-society day", focus=(8, 16), kind="civil_society_day")
    admins = make_consultation(organiser=organiser, title="Inter-administration day", focus=(2, 16),
                               kind="inter_administration_day")
    ngo = make_user(organisation=make_org(name="Red Acoge", category="ngo"))
    region = make_user(organisation=make_org(category="public_administration", governance_level="regional"))
    gps = [make_contribution(civil, author=ngo, kind="good_practice", objectives=(o,), title=f"Good practice {o}")
           for o in (8, 16, 5)]
    chs = [make_contribution(admins, author=region, kind="challenge", objectives=(o,), title=f"Challenge {o}")
           for o in (2, 16, 6)]
    return civil, admins, gps, chs, organiser


def _post(client, url, data):
    return client.post(url, data=data)


def _create(client, title, ids, **extra):
    data = {"revision": "0", "title": title, "c": [str(i) for i in ids], "privacy_threshold": "3",
            "migrant_min_percent": "25", "dominance_max_percent": "50", **extra}
    return client.post("/summaries/national/new", data=data)


def test_a_reviewer_keeps_a_national_summary_with_narrative_pins_drops_and_order(app, client, auth, make_user, two):
    civil, admins, gps, chs, _ = two
    reviewer = make_user(role="reviewer")
    auth.login(reviewer)

    response = _create(client, "National review 2026", [civil.id, admins.id])
    assert response.status_code == 302
    summary = db.session.scalar(db.select(Summary).where(Summary.title == "National review 2026"))
    assert summary is not None and summary.consultation_id is None
    assert sorted(services.summary_consultation_ids(summary)) == sorted([civil.id, admins.id])
    base = f"/summaries/national/{summary.id}"

    def revision():
        db.session.expire_all()
        return str(db.session.get(Summary, summary.id).revision)

    # Narrative for question 3.
    response = _post(client, f"{base}/sections/3", {"revision": revision(), "text": "Rescue at sea **works**.",
                                                     "use_default": "y"})
    assert response.status_code == 302
    # Pin two good practices into Q3 (the second one first in the order after a move),
    # a challenge into Q4, and drop another challenge from Q4.
    for cid in (gps[0].id, gps[1].id):
        assert _post(client, f"{base}/sections/3/pins",
                     {"revision": revision(), "contribution_id": cid, "action": "pin"}).status_code == 302
    assert _post(client, f"{base}/sections/3/pins",
                 {"revision": revision(), "contribution_id": gps[1].id, "action": "up"}).status_code == 302
    assert _post(client, f"{base}/sections/4/pins",
                 {"revision": revision(), "contribution_id": chs[0].id, "action": "pin"}).status_code == 302
    assert _post(client, f"{base}/sections/4/pins",
                 {"revision": revision(), "contribution_id": chs[1].id, "action": "drop"}).status_code == 302

    state = services.draft_state(db.session.get(Summary, summary.id))
    assert state["3"]["pinned"] == [gps[1].id, gps[0].id]
    assert state["4"]["pinned"] == [chs[0].id] and state["4"]["dropped"] == [chs[1].id]

    page = client.get(base)
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "Rescue at sea <strong>works</strong>." in html
    assert html.index("Good practice 16") < html.index("Good practice 8")

    # JSON: the national narrative first, the pins in their order, the drop subtracted.
    document = json.loads(client.get(f"{base}/download.json").get_data(as_text=True))
    assert document["title"] == "National review 2026"
    sections = {s["key"]: s for s in document["sections"]}
    assert sections["3"]["narratives"][0]["consultation_id"] is None
    assert sections["3"]["narratives"][0]["text_md"] == "Rescue at sea **works**."
    assert [c["id"] for c in sections["3"]["pinned"]] == [gps[1].id, gps[0].id]
    assert [c["id"] for c in sections["4"]["pinned"]] == [chs[0].id]
    assert sections["4"]["dropped"] == [chs[1].id]
    assert sections["4"]["proposed_count"] == 2  # three challenges, one dropped

    # Word: the narrative and the cited contributions.
    word = client.get(f"{base}/download.docx")  # a job's stored file (immediate queue): close it
    text = _docx_text(word.data)
    word.close()
    assert "Rescue at sea works." in text
    assert text.index("Good practice 16") < text.index("Good practice 8")
    assert "Challenge 2" in text

    # Publishing freezes a version; its download keeps the narrative after later edits.
    assert _post(client, f"{base}/publish", {"revision": revision(), "note": "First"}).status_code == 302
    _post(client, f"{base}/sections/3", {"revision": revision(), "text": "Changed later.", "use_default": "y"})
    frozen = json.loads(client.get(f"{base}/versions/1/download.json").get_data(as_text=True))
    assert frozen["status"] == "published" and frozen["version"] == 1
    assert next(s for s in frozen["sections"] if s["key"] == "3")["narratives"][0]["text_md"] == "Rescue at sea **works**."
    assert "Changed later." in client.get(base).get_data(as_text=True)

    # The list of saved national summaries.
    assert "National review 2026" in client.get("/summaries/national/saved").get_data(as_text=True)


def test_pin_order_is_kept_for_a_consultation_summary_too(app, two):
    civil, _admins, gps, _chs, _ = two
    for cid in (gps[0].id, gps[1].id):
        services.set_pin(civil, "3", cid, "pin", seen_revision=services.summary_for(civil).revision)
    services.set_pin(civil, "3", gps[1].id, "up", seen_revision=services.summary_for(civil).revision)
    db.session.commit()
    assert services.draft_state(services.summary_for(civil))["3"]["pinned"] == [gps[1].id, gps[0].id]
    with pytest.raises(services.SummaryError):
        services.set_pin(civil, "3", gps[2].id, "down", seen_revision=services.summary_for(civil).revision)


def test_services_refuse_what_a_national_summary_cannot_hold(app, make_user, two):
    civil, admins, gps, chs, _ = two
    reviewer = make_user(role="reviewer")
    with pytest.raises(services.SummaryError) as exc:
        services.create_national(reviewer, title="  ", consultation_ids=[civil.id])
    assert exc.value.field == "title"
    with pytest.raises(services.SummaryError) as exc:
        services.create_national(reviewer, title="T", consultation_ids=[])
    assert exc.value.field == "c"
    summary = services.create_national(reviewer, title="T", consultation_ids=[civil.id])
    db.session.commit()
    # A challenge of a consultation outside the selection is not among its proposals.
    with pytest.raises(services.SummaryError):
        services.set_pin(summary, "4", chs[0].id, "pin", seen_revision=summary.revision)
    # Optimistic locking, as for a consultation's summary.
    with pytest.raises(services.SummaryConflict):
        services.update_section(summary, "3", seen_revision=summary.revision - 1, text="x", objectives=None)
    # The threshold may not go below the strictest of the selected consultations.
    services.update_settings(civil, seen_revision=0, privacy_threshold=5, migrant_min_percent=25, dominance_max_percent=50)
    db.session.commit()
    with pytest.raises(services.SummaryError) as exc:
        services.update_national(summary, reviewer, seen_revision=summary.revision, title="T", consultation_ids=[civil.id],
                                 privacy_threshold=3, migrant_min_percent=25, dominance_max_percent=50)
    assert exc.value.field == "privacy_threshold"
    db.session.rollback()
    assert services.create_national(reviewer, title="U", consultation_ids=[civil.id]).privacy_threshold == 5


def test_bad_input_re_renders_with_values_and_errors(app, client, auth, make_user, two):
    civil, admins, *_ = two
    auth.login(make_user(role="reviewer"))
    response = _create(client, "", [civil.id], privacy_threshold="0")
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert "Give the national summary a title." in html
    assert "Give a whole number from 1 to 50." in html
    assert f'value="{civil.id}" id="c-{civil.id}" checked' in html
    response = _create(client, "Kept title", [])
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert "Choose at least one consultation." in html and 'value="Kept title"' in html
    assert db.session.scalar(db.select(db.func.count()).select_from(Summary)) == 0
    # A narrative over the limit: the text comes back.
    summary = services.create_national(make_user(role="reviewer"), title="T", consultation_ids=[civil.id])
    db.session.commit()
    long = "a" * 200_000
    response = client.post(f"/summaries/national/{summary.id}/sections/3",
                           data={"revision": str(summary.revision), "text": long, "use_default": "y"})
    assert response.status_code in (413, 422)
    if response.status_code == 422:
        assert "a" * 1000 in response.get_data(as_text=True)
    # A stale revision: 409 and the text typed is kept.
    response = client.post(f"/summaries/national/{summary.id}/sections/3",
                           data={"revision": str(summary.revision - 1), "text": "Mine", "use_default": "y"})
    assert response.status_code == 409
    assert "Mine" in response.get_data(as_text=True)
    # Unknown section, unknown summary.
    assert client.get(f"/summaries/national/{summary.id}/sections/9z").status_code == 404
    assert client.get(f"/summaries/national/{summary.id + 999}").status_code == 404
    # A consultation's summary is not a national one.
    services.update_section(civil, "3", seen_revision=0, text="x", objectives=None)
    db.session.commit()
    own = services.summary_for(civil)
    assert client.get(f"/summaries/national/{own.id}").status_code == 404


def test_changing_the_selection_pages_through_consultations_without_losing_input(
    app, client, auth, make_user, make_consultation, two
):
    civil, admins, *_ = two
    for n in range(31):
        make_consultation(title=f"Extra consultation {n}")
    auth.login(make_user(role="reviewer"))
    response = client.post("/summaries/national/new", data={
        "revision": "0", "title": "Typed title", "c": [str(civil.id)], "privacy_threshold": "4",
        "migrant_min_percent": "25", "dominance_max_percent": "50", "choices_page": "2",
    })
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert 'value="Typed title"' in html and 'value="4"' in html
    assert f'value="{civil.id}" id="c-{civil.id}" checked' in html
    assert db.session.scalar(db.select(db.func.count()).select_from(Summary)) == 0


def test_participants_and_organisers_are_refused(app, client, auth, make_user, two):
    civil, admins, gps, chs, organiser = two
    summary = services.create_national(make_user(role="reviewer"), title="Secret draft", consultation_ids=[civil.id])
    db.session.commit()
    base = f"/summaries/national/{summary.id}"
    for user in (make_user(), organiser):
        auth.login(user)
        for url in ("/summaries/national/saved", "/summaries/national/new", base, f"{base}/edit",
                    f"{base}/sections/3", f"{base}/download.json", f"{base}/download.docx"):
            response = client.get(url)
            assert response.status_code == 403, url
            assert "Secret draft" not in response.get_data(as_text=True)
        response = client.post(f"{base}/sections/3/pins",
                               data={"revision": str(summary.revision), "contribution_id": gps[0].id, "action": "pin"})
        assert response.status_code == 403
        auth.logout()
    assert db.session.scalar(db.select(db.func.count()).select_from(SectionPin)) == 0
    assert client.get(base).status_code == 302  # anonymous: to the login page


def test_forms_need_the_csrf_token(csrf_app, make_user, two):
    civil, *_ = two
    reviewer = make_user(role="reviewer")
    client = csrf_app.test_client()
    login = client.get("/login").get_data(as_text=True)
    token = login.split('name="csrf_token" type="hidden" value="')[1].split('"')[0]
    client.post("/login", data={"email": reviewer.email, "password": "correct horse battery", "csrf_token": token})
    response = _create(client, "No token", [civil.id])
    assert response.status_code in (400, 422)
    assert db.session.scalar(db.select(db.func.count()).select_from(Summary)) == 0


# -- downloads made by background jobs (issue 13) ---------------------------------------------
@pytest.fixture
def queued(app, tmp_path):
    """A real queue with no worker: a download's job waits, and the test runs it with
    services.execute (what a worker does)."""
    from consultations.jobs import queue

    app.config.update(MESA_QUEUE_URL=f"sqlite:///{tmp_path / 'queue.sqlite3'}", MESA_FILES_DIR=str(tmp_path / "files"))
    queue.configure(app)
    yield
    queue.huey.storage.flush_all()
    app.config["MESA_QUEUE_URL"] = ""
    queue.configure(app)


def _get(client, url, **kwargs):
    """GET, read the body and close the response (a stored file's response holds it open)."""
    response = client.get(url, **kwargs)
    response.get_data()
    response.close()
    return response


def _job(job_id):
    from consultations.jobs.models import Job

    db.session.rollback()
    db.session.expire_all()
    return db.session.get(Job, job_id)


def test_a_saved_national_summarys_word_file_is_made_by_a_job(app, client, auth, make_user, two, queued):
    from consultations.jobs import services as jobs

    civil, admins, *_ = two
    reviewer = make_user(role="reviewer")
    summary = services.create_national(reviewer, title="National review by job", consultation_ids=[civil.id, admins.id])
    services.update_section(summary, "3", seen_revision=summary.revision, text="Narrative **kept**.", objectives=None)
    db.session.commit()
    auth.login(reviewer)
    response = client.get(f"/summaries/national/{summary.id}/download.docx")
    # The request makes nothing: it answers with the job's page.
    assert response.status_code == 303
    page_url = response.headers["Location"]
    job_id = int(page_url.rsplit("/", 1)[1])
    job = _job(job_id)
    assert job.status == "queued" and job.params["source"] == "national_summary"
    assert job.params["summary_id"] == summary.id and job.owner_id == reviewer.id
    page = client.get(page_url)
    assert page.status_code == 200 and "National review by job" in page.get_data(as_text=True)
    # Asking again while it waits queues nothing new.
    assert client.get(f"/summaries/national/{summary.id}/download.docx").headers["Location"] == page_url
    assert jobs.execute(job_id) == "done"
    response = client.get(f"/downloads/{job_id}/file")
    assert response.status_code == 200
    text = _docx_text(response.data)
    assert "Narrative kept." in text and "Good practice 8" in text
    response.close()
    # Nobody else sees it: another reviewer, an organiser, a participant.
    for user in (make_user(role="reviewer"), two[4], make_user()):
        auth.logout()
        auth.login(user)
        assert client.get(page_url).status_code == 404
        assert client.get(f"/downloads/{job_id}/file").status_code == 404


def test_a_national_summary_job_fails_when_its_owner_may_no_longer_keep_them(app, make_user, two, queued):
    from consultations.jobs import services as jobs

    civil, *_ = two
    reviewer = make_user(role="reviewer")
    summary = services.create_national(reviewer, title="T", consultation_ids=[civil.id])
    db.session.commit()
    job = jobs.create("document", {"source": "national_summary", "summary_id": summary.id, "fmt": "xlsx",
                                   "locale": "en"}, owner=reviewer)
    reviewer.role = "participant"
    db.session.commit()
    assert jobs.execute(job.id) == "failed"
    assert "no longer read this national summary" in _job(job.id).error
    assert jobs.may_see(_job(job.id), reviewer) is False


def test_a_published_national_version_is_made_once_and_served_again(app, client, auth, make_user, two):
    from consultations.jobs.models import Job

    civil, *_ = two
    reviewer = make_user(role="reviewer")
    summary = services.create_national(reviewer, title="Frozen national", consultation_ids=[civil.id])
    db.session.commit()
    auth.login(reviewer)
    assert client.post(f"/summaries/national/{summary.id}/publish",
                       data={"revision": str(summary.revision), "note": ""}).status_code == 302
    url = f"/summaries/national/{summary.id}/versions/1/download.xlsx"
    first = _get(client, url)  # immediate queue (tests): made at once, by a job of nobody's
    assert first.status_code == 200 and first.data.startswith(b"PK")
    etag = first.headers["ETag"]
    first.close()
    stored = db.session.scalars(db.select(Job)).all()
    assert len(stored) == 1 and stored[0].owner_id is None and stored[0].params["source"] == "version"
    second = _get(client, url)
    assert second.status_code == 200 and second.headers["ETag"] == etag and second.data == first.data
    second.close()
    assert _get(client, url, headers={"If-None-Match": etag}).status_code == 304
    assert db.session.scalar(db.select(db.func.count()).select_from(Job)) == 1  # nothing made again
    # Another reviewer reads the stored file and its page; organisers and participants do not.
    auth.logout()
    auth.login(make_user(role="reviewer"))
    assert _get(client, url).status_code == 200
    assert _get(client, f"/downloads/{stored[0].id}").status_code == 200
    for user in (two[4], make_user()):
        auth.logout()
        auth.login(user)
        assert _get(client, url).status_code == 403
        assert _get(client, f"/downloads/{stored[0].id}").status_code == 404
        assert _get(client, f"/downloads/{stored[0].id}/file").status_code == 404
