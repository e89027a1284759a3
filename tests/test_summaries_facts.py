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


# -- coherent protection: no download gives away what another part hides --------------------
def test_no_download_contradicts_or_gives_away_what_another_part_hides(
    app, make_user, make_org, make_consultation, make_contribution, voices
):
    organiser = make_user(role="organiser")
    consultation = make_consultation(organiser=organiser, focus=(3, 8, 16), language="es", accepted_languages=["es", "en"])
    plan = [("ngo", 6, (16,), "challenge", "es"), ("migrant_association", 4, (8, 16), "proposal", "es"),
            ("diaspora_organisation", 1, (3,), "good_practice", "en"), ("academia", 3, (3,), "challenge", "en")]
    for category, n, objectives, kind, language in plan:
        # The small categories' organisations did not agree to be named (one that agreed is
        # named, with the combined label: it waives its own protection, nobody else's).
        named = category in ("ngo", "migrant_association")
        author = make_user(organisation=make_org(name=f"Org {category}", category=category))
        _many(make_contribution, consultation, author, n, objectives=objectives, kind=kind, language=language,
              name_organisation=named)
    client = login(client_for(app), organiser)
    response = client.get(f"/consultations/{consultation.id}/summary/download.json")
    document = json.loads(response.get_data())
    response.close()
    shares = {s["category"]: s for s in document["representation"]["contributions"]["shares"]}
    hidden = {k for k, s in shares.items() if services.is_hidden(s["count"])}
    assert hidden == {"diaspora_organisation", "academia"}  # 1 is small; 3 protects it
    response = client.get(f"/consultations/{consultation.id}/summary/download.csv")
    annex_csv = list(csv.DictReader(io.StringIO(response.get_data(as_text=True).lstrip("\ufeff"))))
    response.close()
    for annex in (document["contributions"], annex_csv):
        assert len(annex) == document["totals"]["contributions"] == 14
        # Nothing hidden in the statistics is given away by the annex: no row names a
        # category the tables do not name, nor an organisation of it.
        for row in annex:
            assert row["stakeholder_category"] not in hidden
            assert "Diaspora" not in row["voice"] and "Academia" not in row["voice"]
            assert "Org diaspora" not in json.dumps(row, ensure_ascii=False)
        # No published figure contradicts the annex.
        by_category: dict[str, int] = {}
        for row in annex:
            by_category[row["stakeholder_category"]] = by_category.get(row["stakeholder_category"], 0) + 1
        for key, share in shares.items():
            if not services.is_hidden(share["count"]):
                assert share["count"] == by_category.get(key, 0), key
    items = document["contributions"]
    for row in document["by_objective"]:
        tagged = [c for c in items if row["objective"] in c["objectives"]]
        assert row["total"] == len(tagged)
        for kind, n in row["kinds"].items():
            assert n == sum(1 for c in tagged if c["kind"] == kind)
        for key, n in row["categories"].items():
            if not services.is_hidden(n):
                assert n == sum(1 for c in tagged if c["stakeholder_category"] == key), (row["objective"], key)
    assert {r["language"]: r["count"] for r in document["by_language"]} == {"es": 10, "en": 4}
    for kind in ("challenge", "proposal", "good_practice"):
        assert document["totals"][kind] == sum(1 for c in items if c["kind"] == kind)
    voices_published = {(r["category"], r["governance_level"]): r["count"] for r in document["participation"]["contributions"]}
    assert voices_published == {("ngo", None): 6, ("migrant_association", None): 4, ("combined", None): 4}
    # The Markdown and the spreadsheet carry the same annex: the hidden categories appear
    # only as table rows with a marker, never in a contribution's voice.
    response = client.get(f"/consultations/{consultation.id}/summary/download.md")
    markdown = response.get_data(as_text=True)
    response.close()
    assert "Org diaspora" not in markdown and "Org academia" not in markdown
    assert "Org ngo — NGO" in markdown
    from openpyxl import load_workbook

    response = client.get(f"/consultations/{consultation.id}/summary/download.xlsx")
    data = response.get_data()
    response.close()  # the stored file is served from disk: close it
    workbook = load_workbook(io.BytesIO(data), read_only=True)
    sheet = workbook["Contributions"]
    cells = [str(v) for row in sheet.iter_rows(values_only=True) for v in row if v is not None]
    workbook.close()
    assert not any("Org diaspora" in v or "Org academia" in v or v in ("diaspora_organisation", "academia") for v in cells)
    # Every figure of the page is the compiled one.
    page = client.get(f"/consultations/{consultation.id}/summary").get_data(as_text=True)
    assert "×" in page and "&lt;3" in page


# -- national compilation ------------------------------------------------------------------
def test_national_questions_3_and_4_propose_every_good_practice_and_challenge(
    app, make_user, make_consultation, make_contribution, voices
):
    civil = make_consultation(title="Civil-society day", focus=(8, 16), kind="civil_society_day")
    admins = make_consultation(title="Inter-administration day", focus=(2, 16), kind="inter_administration_day")
    ngo, region, town = voices("ngo"), voices("public_administration", "regional"), voices("public_administration", "municipal")
    for objectives in ((8,), (16,), (5,), (16, 8)):
        make_contribution(civil, author=ngo, kind="good_practice", objectives=objectives)
    for objectives in ((2,), (16,), (6,), (2,), (15,)):
        make_contribution(admins, author=region, kind="challenge", objectives=objectives)
    for _ in range(3):
        make_contribution(admins, author=town, kind="proposal", objectives=(2,))
    compiled = services.compile_national([civil, admins])
    sections = {s["key"]: s for s in compiled.meta["sections"]}
    assert sections["3"]["proposed_count"] == 4  # was 0
    assert sections["4"]["proposed_count"] == 5  # was 0
    assert sections["5"]["proposed_count"] == 3
    assert len(sections["3"]["proposed"]) == 4
    # Focus without input, per consultation.
    assert compiled.meta["focus_without_input_by_consultation"] == []
    # By voice: administrations by governance level against civil society by category.
    vc = compiled.meta["voice_comparison"]
    assert [(c["side"], c["category"], c["governance_level"]) for c in vc["columns"]] == [
        ("administrations", "public_administration", "municipal"),
        ("administrations", "public_administration", "regional"),
        ("civil_society", "ngo", None),
    ]
    assert vc["totals"] == [3, 5, 4]
    row2 = next(r for r in vc["rows"] if r["objective"] == 2)
    assert row2["counts"] == [3, 2, 0]


def test_focus_without_input_is_listed_per_consultation(app, make_consultation, make_contribution, voices):
    one = make_consultation(title="One", focus=(1, 8))
    two = make_consultation(title="Two", focus=(8, 16))
    ngo = voices("ngo")
    make_contribution(one, author=ngo, objectives=(1,))
    make_contribution(two, author=ngo, objectives=(1,))
    meta = services.compile_national([one, two]).meta
    assert meta["focus_without_input_by_consultation"] == [
        {"consultation_id": one.id, "consultation": "One", "objectives": [8]},
        {"consultation_id": two.id, "consultation": "Two", "objectives": [8, 16]},
    ]


# -- councils -------------------------------------------------------------------------------
def test_a_councils_composition_is_warned_on(app, make_org, make_consultation):
    council = make_consultation(title="Valencia council", kind="local_council")
    for category, n in (("migrant_association", 14), ("ngo", 53), ("trade_union", 14)):
        for i in range(n):
            roundtables.add_member(council, make_org(name=f"{category} {i}", category=category), joined_on=date(2020, 1, 1))
    roundtables.add_member(council, make_org(name="Observer", category="migrant_association"), status="observer",
                           joined_on=date(2020, 1, 1))
    gone = make_org(name="Gone", category="migrant_association")
    roundtables.add_member(council, gone, joined_on=date(2019, 1, 1), left_on=date(2019, 12, 31))
    db.session.commit()
    warnings = [w for w in _stats([council])["representation"]["warnings"] if w["measure"] == "composition"]
    assert {w["kind"] for w in warnings} == {"migrant_diaspora_low", "dominance"}
    md = next(w for w in warnings if w["kind"] == "migrant_diaspora_low")
    assert md["percent"] == 17.3 and "14 of its 81 members" in md["message"]
    dominance = next(w for w in warnings if w["kind"] == "dominance")
    assert dominance["category"] == "ngo" and "53 of its 81 members" in dominance["message"]


# -- the summary of a closed consultation -----------------------------------------------------
def test_a_closed_consultations_published_summary_is_linked_not_denied(app, make_user, make_consultation):
    organiser = make_user(role="organiser")
    consultation = make_consultation(organiser=organiser, state="closed")
    participant = make_user()
    client = login(client_for(app), participant)
    response = client.get(f"/consultations/{consultation.id}/summary")
    assert response.status_code == 404 and "No summary of this consultation has been published yet" in response.get_data(as_text=True)
    services.publish(consultation, organiser, seen_revision=services.summary_for(consultation).revision)
    db.session.commit()
    response = client.get(f"/consultations/{consultation.id}/summary")
    assert response.status_code == 302 and response.headers["Location"].endswith("/summary/versions/1")
    assert client.get(response.headers["Location"]).status_code == 200
    # Signed out: not public before the results are, but not "never published" either.
    response = client_for(app).get(f"/consultations/{consultation.id}/summary")
    assert response.status_code == 404
    assert "has been published" in response.get_data(as_text=True)


def test_the_comparison_by_voice_is_on_the_national_page_and_in_its_documents(
    app, client, make_user, make_consultation, make_contribution, voices
):
    """Administrations by governance level against civil society by category: shown on
    the national compilation's page and written in its Markdown, spreadsheet and Word."""
    import docx
    import openpyxl

    from consultations.summaries import exports

    civil = make_consultation(title="Civil-society day", focus=(8,), kind="civil_society_day")
    admins = make_consultation(title="Inter-administration day", focus=(2,), kind="inter_administration_day")
    ngo, region = voices("ngo"), voices("public_administration", "regional")
    for _ in range(3):
        make_contribution(civil, author=ngo, kind="proposal", objectives=(8,))
        make_contribution(admins, author=region, kind="challenge", objectives=(2,))
    heading = "Administrations and civil society compared by objective"

    login(client, make_user(role="reviewer"))
    page = client.get(f"/summaries/national?c={civil.id}&c={admins.id}")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert heading in html
    assert "Administrations: Regional" in html or "Administrations: regional" in html.lower()

    compiled = services.compile_national([civil, admins])
    header, rows = exports.voice_comparison_table(compiled.meta)
    assert rows[-1][1:] == [3, 3]  # the totals: regional administrations 3, NGOs 3
    markdown = "".join(exports.markdown_chunks(compiled))
    assert heading in markdown
    book = openpyxl.load_workbook(io.BytesIO(exports.to_xlsx(compiled)))
    sheet = next(ws for ws in book.worksheets if ws.title.startswith("Comparison by voice"))
    values = [[c.value for c in row] for row in sheet.iter_rows()]
    assert values[-1][2:] == [3, 3]
    word = docx.Document(io.BytesIO(exports.to_docx(compiled)))
    assert any(p.text == heading for p in word.paragraphs)
    assert any(header[1] in cell.text for t in word.tables for row in t.rows for cell in row.cells)
