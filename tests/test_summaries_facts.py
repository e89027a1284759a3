"""Issue 12, the facts: no false figure in a compiled summary. Suppression markers that
say why a figure is hidden, one coherent protection model across statistics, annex and
downloads, the language of captured contributions, attendance after a cancellation, the
voice of input collected on behalf of others, the national compilation's questions."""
from __future__ import annotations

import csv
import io
import json
from datetime import date, datetime, time, timedelta

import pytest
from sqlalchemy import select

from consultations.contributions.models import Contribution
from consultations.extensions import db
from consultations.roundtables import services as roundtables
from consultations.roundtables.models import Registration, Roundtable
from consultations.summaries import services

from .conftest import PASSWORD


def login(client, user):
    response = client.post("/login", data={"email": user.email, "password": PASSWORD})
    assert response.status_code == 302
    return client


@pytest.fixture
def voices(make_user, make_org):
    def make(category, level=None, name=None):
        return make_user(organisation=make_org(name=name, category=category, governance_level=level))

    return make


def _stats(consultations, threshold=3, **settings):
    return services.compile_statistics(list(consultations), services.Settings(privacy_threshold=threshold, **settings))


def _many(make_contribution, consultation, author, n, **fields):
    for _ in range(n):
        make_contribution(consultation, author=author, **fields)


# -- suppression markers --------------------------------------------------------------
def test_a_figure_hidden_to_protect_another_is_not_called_small(app, make_consultation, make_contribution, voices):
    """The national example of the issue: migrant associations have 8 of 46
    contributions. The old summary said "<3" and "fewer than 3 contributions"."""
    consultation = make_consultation()
    for category, n in (("migrant_association", 8), ("diaspora_organisation", 2), ("ngo", 30), ("academia", 6)):
        _many(make_contribution, consultation, voices(category), n)
    meta = _stats([consultation], threshold=3)
    shares = {s["category"]: s for s in meta["representation"]["contributions"]["shares"]}
    # Diaspora (2) is below the threshold: not named. Alone in the combined group it would
    # be named by elimination, so the smallest named category (academia, 6) joins it.
    assert shares["diaspora_organisation"]["count"] == services.PRIMARY
    assert shares["academia"]["count"] == services.COMPLEMENTARY
    assert services.marker(shares["diaspora_organisation"]["count"], 3) == "<3"
    assert services.marker(shares["academia"]["count"], 3) == "×"  # not "<3": it is 6
    assert shares["combined"]["count"] == 8 and shares["migrant_association"]["count"] == 8
    # No published figure is false: every published count is the true one.
    assert shares["ngo"]["count"] == 30 and meta["representation"]["contributions"]["total"] == 46
    warning = next(w for w in meta["representation"]["warnings"] if w["kind"] == "migrant_diaspora_low")
    # 10 of 46 (21.7 %) is below 25 %; the share is not quoted (one part is hidden), and
    # the warning does not claim "fewer than 3": they are 10.
    assert warning["percent"] is None
    assert "fewer than" not in warning["message"] and "21.7" not in warning["message"]
    assert "less than 25%" in warning["message"]
    assert meta["suppression"]["markers"] == [services.PRIMARY, services.COMPLEMENTARY]
    notes = meta["suppression"]["notes"]
    assert "fewer than 3" in notes["<3"] and "may be large" in notes["×"]


def test_the_guadalajara_row_total_is_not_contradicted(app, make_consultation, make_contribution, voices):
    """Objective 15: 4 challenges and 1 proposal, a row total of 5. The old row said
    challenges "<3" next to a published total of 5."""
    consultation = make_consultation(focus=(15,))
    ngo = voices("ngo")
    _many(make_contribution, consultation, ngo, 4, kind="challenge", objectives=(15,))
    make_contribution(consultation, author=ngo, kind="proposal", objectives=(15,))
    meta = _stats([consultation], threshold=3)
    row = meta["by_objective"][14]
    assert row["total"] == 5
    assert row["kinds"] == {"challenge": 4, "proposal": 1, "good_practice": 0}
    # Whatever is published adds up: the categories of the row sum to its total.
    assert sum(services.count_value(v) for k, v in row["categories"].items()) == row["total"]


def test_attendance_cells_say_why_they_are_hidden_and_warnings_never_quote_them(app, make_consultation, voices):
    consultation = make_consultation()
    rt = Roundtable(consultation_id=consultation.id, title="Table", starts_at=datetime(2024, 2, 15, 9),
                    ends_at=datetime(2024, 2, 15, 11))
    db.session.add(rt)
    db.session.commit()
    from consultations.roundtables.models import WalkIn

    for category, n in (("migrant_association", 1), ("ngo", 9), ("academia", 7)):
        db.session.add(WalkIn(roundtable_id=rt.id, stakeholder_category=category, count=n))
    db.session.commit()
    meta = _stats([consultation], threshold=3)
    shares = {s["category"]: s["count"] for s in meta["representation"]["attendance"]["shares"]}
    assert shares["migrant_association"] == services.PRIMARY
    assert shares["academia"] == services.COMPLEMENTARY  # 7, hidden to protect the 1
    assert shares["ngo"] == 9 and meta["representation"]["attendance"]["total"] == 17
    for w in meta["representation"]["warnings"]:
        if w["measure"] == "attendance":
            assert "7" not in w["message"] and "41" not in w["message"]
    md = next(w for w in meta["representation"]["warnings"] if w["measure"] == "attendance" and w["kind"] == "migrant_diaspora_low")
    assert "fewer than 3" in md["message"]  # true: 1 person


# -- attendance -------------------------------------------------------------------------
def test_a_cancelled_registration_never_counts_as_present(app, make_user, make_consultation):
    consultation = make_consultation()
    rt = Roundtable(consultation_id=consultation.id, title="Table", starts_at=datetime(2024, 2, 15, 9),
                    ends_at=datetime(2024, 2, 15, 11), seats_taken=2)
    db.session.add(rt)
    db.session.commit()
    person = make_user()
    registration = Registration(roundtable_id=rt.id, registered_by_id=person.id, person_key="p-1",
                                stakeholder_category="ngo", status="confirmed", attended=True)
    db.session.add(registration)
    db.session.commit()
    assert roundtables.attendance([rt.id]).total == 1
    # Marked present, then cancelled (the old summary still counted 1).
    registration.status = "cancelled"
    db.session.commit()
    assert roundtables.attendance([rt.id]).total == 0
    meta = _stats([consultation], threshold=1)
    assert meta["totals"]["attendance"] == 0
    assert meta["participation"]["attendance"] == []
    # The service that cancels also clears the mark.
    other = Registration(roundtable_id=rt.id, registered_by_id=make_user().id, person_key="p-2",
                         stakeholder_category="ngo", status="confirmed", attended=True)
    db.session.add(other)
    db.session.commit()
    roundtables.cancel_registration(other)
    db.session.commit()
    assert other.attended is False
    assert _stats([consultation], threshold=1)["totals"]["attendance"] == 0 == roundtables.attendance([rt.id]).total


# -- capture language ---------------------------------------------------------------------
def test_captured_contributions_take_the_consultations_language_or_the_chosen_one(app, make_user, make_consultation):
    facilitator = make_user()
    consultation = make_consultation(language="es", accepted_languages=["es", "ca"])
    rt = roundtables.create_roundtable(
        consultation, title="Mesa", day=date.today() + timedelta(days=10), start=time(10), end=time(12),
        tz="Europe/Madrid", mode="in_person", place="Sala", capacity=None, registration_closes=None,
        facilitators=[facilitator],
    )
    db.session.commit()
    captured = roundtables.capture_contribution(rt, facilitator, kind="challenge", title="Barreras",
                                                objectives=[3], category="migrant_association")
    assert captured.language == "es"  # was always "en"
    db.session.commit()
    client = login(client_for(app), facilitator)
    form = client.get(f"/roundtables/{rt.id}/capture").get_data(as_text=True)
    assert 'name="language"' in form and '<option selected value="es">' in form.replace('value="es" selected', 'selected value="es"')
    data = {"language": "ca", "rows-0-kind": "proposal", "rows-0-title": "Proposta", "rows-0-objectives": ["3"],
            "rows-0-category": "ngo"}
    assert client.post(f"/roundtables/{rt.id}/capture", data=data).status_code == 302
    assert db.session.scalar(select(Contribution.language).where(Contribution.title == "Proposta")) == "ca"
    # A language the consultation does not accept: told by the field, nothing lost, no 500.
    response = client.post(f"/roundtables/{rt.id}/capture", data={**data, "language": "ar", "rows-0-title": "Otra"})
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert "does not accept contributions in this language" in html and 'value="Otra"' in html
    db.session.commit()
    meta = _stats([consultation], threshold=1)
    assert {r["language"]: r["count"] for r in meta["by_language"]} == {"es": 1, "ca": 1}


def client_for(app):
    return app.test_client()


# -- the voice of input collected on behalf of others --------------------------------------
def test_input_collected_on_behalf_is_the_peoples_voice_everywhere(app, make_user, make_org, make_consultation):
    from consultations.contributions.services import submit_contribution

    organiser = make_user(role="organiser")
    consultation = make_consultation(organiser=organiser)
    association = make_org(name="Asociación X", category="migrant_association")
    member = make_user(organisation=association)
    for i in range(3):
        submit_contribution(consultation, member, kind="challenge", title=f"Collected {i}", body="", objectives=(3,),
                            on_behalf=True, on_behalf_note="meeting of 3 May", on_behalf_category="other",
                            name_organisation=True)
    db.session.commit()
    compiled = services.compile_for_viewer(consultation, organiser)
    rows = list(compiled.contributions())
    assert {r["voice"] for r in rows} == {"Other, collected by Asociación X"}  # not "Asociación X — Other"
    assert all(r["on_behalf"] == r["collected_by"] == "Asociación X" and r["organisation"] is None for r in rows)
    # The statistics count the people's category, as the annex does.
    shares = {s["category"]: s["count"] for s in compiled.meta["representation"]["contributions"]["shares"]}
    assert shares["other"] == 3 and shares["migrant_association"] == 0
    # The contribution page says the same, from the same function.
    page = client_for(app).get(f"/contributions/{rows[0]['id']}").get_data(as_text=True)
    assert "Other, collected by Asociación X" in page
    # Every download.
    client = login(client_for(app), organiser)
    for fmt in ("json", "csv", "md"):
        response = client.get(f"/consultations/{consultation.id}/summary/download.{fmt}")
        body = response.get_data(as_text=True)
        response.close()
        assert "Asociación X — " not in body, fmt
        assert "collected by Asociación X" in body or "Asociación X" in body, fmt
