"""Summary downloads (issue 4, points 5-7): Word, PDF, spreadsheet, CSV, JSON and
Markdown, opened again and read; formula injection; non-Latin scripts and very long
texts; the empty summary; the demo's national compilation of Spain's 2024 days."""
from __future__ import annotations

import csv
import io
import json
import shutil
import subprocess
from datetime import date

import pytest
from docx import Document
from openpyxl import load_workbook
from pypdf import PdfReader
from sqlalchemy import select

from consultations.consultations.models import Consultation
from consultations.extensions import db
from consultations.summaries import exports, services

from .test_summaries import login, move, roundtable

ARABIC = "تحديات السكن للمهاجرين في المدينة"
EMOJI = "Welcome 🤝🌍"


def _get(client, url):
    response = client.get(url)
    data = response.get_data()
    response.close()
    assert response.status_code == 200, (url, response.status_code)
    return response, data


PDFTOTEXT = shutil.which("pdftotext")


def _page_text(page) -> str:
    # WeasyPrint writes some fonts with its own two-byte CMap, which pypdf decodes with
    # NUL bytes between the characters (and non-Latin characters wrongly): good enough
    # for Latin text; pdftotext (poppler) reads every script.
    return page.extract_text().replace("\x00", "")


def _pdf_text(data: bytes) -> str:
    if PDFTOTEXT:
        result = subprocess.run([PDFTOTEXT, "-enc", "UTF-8", "-", "-"], input=data, capture_output=True, check=True)
        return result.stdout.decode("utf-8")
    return "\n".join(_page_text(page) for page in PdfReader(io.BytesIO(data)).pages)


def _docx_text(data: bytes) -> tuple[str, Document]:
    document = Document(io.BytesIO(data))
    parts = [p.text for p in document.paragraphs]
    for table in document.tables:
        for row in table.rows:
            parts.extend(cell.text for cell in row.cells)
    return "\n".join(parts), document


@pytest.fixture
def rich(make_user, make_org, make_consultation, make_contribution):
    """A closed consultation with a roundtable, named and unnamed organisations,
    a contribution in Arabic with emoji, a very long one, and formula-like titles."""
    organiser = make_user(role="organiser", name="Olga Organiser")
    consultation = make_consultation(organiser=organiser, title="Civil-society day 2024", focus=(8, 16, 23))
    ngo = make_user(organisation=make_org(name="Red Acoge", category="ngo"), name="Nuria Person")
    migrants = make_user(organisation=make_org(name="Casa Árabe Asoc", category="migrant_association"))
    region = make_user(organisation=make_org(category="public_administration", governance_level="regional"))
    rt = roundtable(consultation, title="Table on rescue and reception")
    items = [
        make_contribution(consultation, author=ngo, kind="good_practice", title="Search and rescue by Salvamento Marítimo",
                          objectives=(8,), body="Praised by **all**.", name_organisation=True),
        make_contribution(consultation, author=migrants, kind="challenge", title=f"{ARABIC} {EMOJI}",
                          objectives=(16,), body=f"{ARABIC}\n\n{EMOJI} — نص طويل"),
        make_contribution(consultation, author=region, kind="proposal", title="=HYPERLINK(\"http://evil.example\",\"x\")",
                          objectives=(16,), body="+cmd|' /C calc'!A0"),
        make_contribution(consultation, author=ngo, kind="challenge", title="@SUM(1+1)", objectives=(16,), body="-2+3"),
        make_contribution(consultation, author=region, kind="proposal", title="Very long contribution",
                          objectives=(15,), body=("A very long text about reception. " * 560)[:19_990]),
    ]
    items[0].roundtable_id = rt.id
    db.session.commit()
    move(consultation, "closed")
    summary = services.summary_for(consultation)
    services.update_section(consultation, "2k", seen_revision=summary.revision,
                            text="Spain's **search and rescue** is praised. " + ARABIC, objectives=None)
    db.session.commit()
    services.set_pin(consultation, "2k", items[0].id, "pin", seen_revision=services.summary_for(consultation).revision)
    db.session.commit()
    return consultation, organiser, items


def test_word_reads_as_a_finished_report(app, client, rich):
    consultation, organiser, items = rich
    login(client, organiser)
    response, data = _get(client, f"/consultations/{consultation.id}/summary/download.docx")
    assert response.mimetype == exports.FORMATS["docx"][0]
    assert "attachment;" in response.headers["Content-Disposition"]
    text, document = _docx_text(data)
    assert document.paragraphs[0].text == "Summary: Civil-society day 2024"
    assert document.paragraphs[0].style.name == "Title"
    headings = [p.text for p in document.paragraphs if p.style.name.startswith("Heading")]
    assert headings[:2] == ["Contents", "1. About this summary"]
    order = [h for h in headings if h.startswith("Question")]
    assert order[:4] == ["Question 1", "Question 2", "Question 2 (a)", "Question 2 (b)"]
    assert order[-3:] == ["Question 3", "Question 4", "Question 5"]
    assert "Annex: all contributions" in headings
    assert 'TOC \\o "1-2"' in document.element.xml  # a real table of contents field
    # Charts with their text alternative.
    assert len(document.inline_shapes) == 2
    descr = [s._inline.docPr.get("descr") for s in document.inline_shapes]
    assert descr[0].startswith("Horizontal bar chart") and descr[1].startswith("Bar chart of contributions")
    assert "Text alternative: Bar chart" in text
    # Narrative, pinned contribution, provenance, tables.
    assert "Spain's search and rescue is praised." in text
    # Whose voice: 1 migrant association among 5 contributions, a small count.
    assert "Warning: Migrant and diaspora associations together account for fewer than 3 contributions" in text
    # Each category has fewer than 3 contributions here: none is named (issue 12), not even
    # next to an organisation that agreed to be named.
    assert "Search and rescue by Salvamento Marítimo — Good practice · Red Acoge — Other categories (combined)" in text
    assert "roundtable “Table on rescue and reception”" in text
    # 2 regional contributions: the category is a row of the tables (with its marker), but
    # no contribution or table names it with its level (issue 12).
    assert "Public administration" in text and "Public administration (regional)" not in text
    assert ARABIC in text and EMOJI in text
    assert ("A very long text about reception. " * 100) in text
    assert len(document.tables) >= 4
    assert "Olga Organiser" not in text and "Nuria Person" not in text and "Casa Árabe Asoc" not in text
    # Arabic paragraphs are right-to-left.
    arabic = next(p for p in document.paragraphs if p.text.startswith(ARABIC))
    assert arabic._p.pPr.find("{http://schemas.openxmlformats.org/wordprocessingml/2006/main}bidi") is not None


def test_pdf_reads_as_a_finished_report(app, client, rich):
    consultation, organiser, items = rich
    login(client, organiser)
    response, data = _get(client, f"/consultations/{consultation.id}/summary/download.pdf")
    assert response.mimetype == "application/pdf" and data.startswith(b"%PDF")
    reader = PdfReader(io.BytesIO(data))
    pages = [_page_text(p) for p in reader.pages]
    assert "Summary: Civil-society day 2024" in pages[0]
    assert "Draft, not published" in pages[0]
    assert "Contents" in pages[1] and "Annex: all contributions" in pages[1]
    text = _pdf_text(data)
    for heading in ("2. Whose voice", "Question 2 (k)", "Question 5", "5. Good practices"):
        assert heading in text
    assert text.index("Question 1") < text.index("Question 2 (a)") < text.index("Question 3")
    assert "Text alternative: Bar chart of contributions" in text
    assert "Migrant and diaspora associations together account for fewer than 3" in " ".join(text.split())
    assert "Salvamento Marítimo" in text and "Red Acoge" in text
    assert "Table on rescue and reception" in text
    if PDFTOTEXT:  # non-Latin scripts need a real PDF text extractor
        assert ARABIC in text and "🤝" in text
    assert "A very long text about reception." in text
    assert len(reader.pages) >= 8  # the long text flows over pages
    assert "Nuria Person" not in text and "Casa Árabe Asoc" not in text
    # The two charts (colour emoji are drawn as small images too).
    assert sum(len(page.images) for page in reader.pages) >= 2
    assert sum(len(page.images) for page in reader.pages[2:6]) >= 2


def test_a_large_pdf_is_laid_out_in_parallel_parts_and_joined(
    app, client, make_consultation, make_contribution, make_user, make_org, monkeypatch
):
    """Large reports are cut into parts rendered by worker processes: the joined PDF has
    every contribution once, page numbers running on, and the annex bookmarks."""
    organiser = make_user(role="organiser")
    consultation = make_consultation(organiser=organiser, title="Civil-society day 2024")
    author = make_user(organisation=make_org(category="trade_union"))
    make_contribution(consultation, author=author, title=f"{ARABIC} {EMOJI}", objectives=(5,), body=ARABIC)
    titles = [f"Contribution number {i:03d}" for i in range(60)]
    for i, title in enumerate(titles):
        make_contribution(consultation, author=author, title=title, objectives=(1 + i % 5,),
                          body=f"Text of {title}. " + "Words about decent work and reception. " * 12)
    monkeypatch.setattr(exports, "_PDF_PART_LINES", 150)
    monkeypatch.setattr(exports, "_PDF_START_LINES", 10)
    monkeypatch.setattr(exports, "_pdf_processes", lambda: 3)
    annex = list(services.compile_for_viewer(consultation, organiser).contributions())
    assert len(exports._annex_cuts(annex, 100)) == 2  # three parts for a short front matter

    workers = []
    in_worker = exports._pdf_in_worker
    monkeypatch.setattr(exports, "_pdf_in_worker", lambda page: workers.append(page) or in_worker(page))
    login(client, organiser)
    _, data = _get(client, f"/consultations/{consultation.id}/summary/download.pdf")
    assert len(workers) >= 1  # parts of the annex laid out in worker processes, the first part here
    reader = PdfReader(io.BytesIO(data))
    text = _pdf_text(data)
    flat = " ".join(text.split())
    for title in titles:  # each text once, in the annex
        assert flat.count(f"Text of {title}.") == 1, title
    if PDFTOTEXT:
        assert ARABIC in text and "🤝" in text
    # Page numbers run on across the parts (the folio overlay): page n says n.
    for number, page in enumerate(reader.pages[1:], start=2):
        assert _page_text(page).split()[-1] == str(number)
    # Bookmarks: the annex holds the objectives' headings of every part.
    def children_of(outline, title):
        for i, item in enumerate(outline):
            if isinstance(item, list):
                found = children_of(item, title)
                if found is not None:
                    return found
            elif item.title == title:
                return outline[i + 1] if i + 1 < len(outline) and isinstance(outline[i + 1], list) else []
        return None

    annex = children_of(reader.outline, "Annex: all contributions")
    assert [item.title.split(".")[0] for item in annex] == ["1", "2", "3", "4", "5"]
    assert reader.metadata.title == "Summary: Civil-society day 2024"


def test_spreadsheet_has_one_sheet_per_view_and_no_formulas(app, client, rich):
    consultation, organiser, items = rich
    login(client, organiser)
    _, data = _get(client, f"/consultations/{consultation.id}/summary/download.xlsx")
    workbook = load_workbook(io.BytesIO(data))
    assert workbook.sheetnames == [
        "About", "By objective", "Languages", "Participation", "Representation", "Sections",
        "Focus without input", "Comparison", "Good practices", "Contributions",
    ]
    sheet = workbook["Contributions"]
    header = [c.value for c in sheet[1]]
    assert header == exports.CSV_COLUMNS
    rows = [[c.value for c in row] for row in sheet.iter_rows(min_row=2)]
    assert len(rows) == 5
    for row in sheet.iter_rows():
        for cell in row:
            assert cell.data_type != "f", cell.value
    # Formula-like text is kept as written, in text cells (no stray apostrophe: issue 10),
    # marked "quote prefix" so that editing the cell keeps it text.
    titles = {r[header.index("title")] for r in rows}
    assert "=HYPERLINK(\"http://evil.example\",\"x\")" in titles and "@SUM(1+1)" in titles
    bodies = {r[header.index("body")] for r in rows}
    assert "+cmd|' /C calc'!A0" in bodies and "-2+3" in bodies
    for row in sheet.iter_rows(min_row=2):
        for cell in row:
            if isinstance(cell.value, str) and cell.value.lstrip().startswith(("=", "+", "-", "@")):
                assert cell.data_type == "s" and cell.quotePrefix, cell.value
    organisations = {r[header.index("organisation")] for r in rows}
    assert organisations == {"Red Acoge", None}
    by_objective = workbook["By objective"]
    row16 = [c.value for c in by_objective[17]]
    assert row16[0] == 16 and "<3" in row16  # small counts suppressed
    assert "Migrant and diaspora" in " ".join(str(c.value) for c in workbook["About"]["B"])
    workbook.close()


def test_every_document_counts_contributions_by_language(app, client, make_user, make_org, make_consultation, make_contribution):
    organiser = make_user(role="organiser")
    consultation = make_consultation(organiser=organiser, language="es", accepted_languages=["es", "ar"])
    author = make_user(organisation=make_org(category="ngo"))
    for _ in range(3):
        make_contribution(consultation, author=author, language="ar", title=ARABIC)
    for _ in range(5):
        make_contribution(consultation, author=author, language="es")
    login(client, organiser)
    base = f"/consultations/{consultation.id}/summary"
    page = client.get(base).get_data(as_text=True)
    assert "Contributions by language" in page and "<th scope=\"row\">Arabic</th><td>3</td>" in page
    _, data = _get(client, base + "/download.xlsx")
    workbook = load_workbook(io.BytesIO(data))
    assert [[c.value for c in row] for row in workbook["Languages"].iter_rows()] == [
        ["Language code", "Language", "Contributions"], ["es", "Spanish", 5], ["ar", "Arabic", 3],
    ]
    workbook.close()
    _, data = _get(client, base + "/download.md")
    assert "| Spanish | 5 |" in data.decode() and "| Arabic | 3 |" in data.decode()
    _, data = _get(client, base + "/download.docx")
    text, _document = _docx_text(data)
    assert "Contributions by language" in text and "Arabic\n3" in text
    _, data = _get(client, base + "/download.json")
    assert json.loads(data)["by_language"] == [
        {"language": "es", "label": "Spanish", "count": 5}, {"language": "ar", "label": "Arabic", "count": 3},
    ]


def test_csv_is_streamed_and_neutralises_formulas(app, client, rich):
    consultation, organiser, items = rich
    login(client, organiser)
    response = client.get(f"/consultations/{consultation.id}/summary/download.csv")
    assert response.is_streamed
    text = response.get_data(as_text=True)
    response.close()
    rows = list(csv.reader(io.StringIO(text.lstrip("\ufeff"))))
    assert rows[0] == exports.CSV_COLUMNS
    assert len(rows) == 6
    for row in rows[1:]:
        for value in row:
            assert not value.startswith(("=", "+", "-", "@")), value
    assert any(r[7] == "'=HYPERLINK(\"http://evil.example\",\"x\")" for r in rows)
    # Grouped by first objective: 8, 15, 16, 16, 16.
    assert [r[9].split("; ")[0] for r in rows[1:]] == ["8", "15", "16", "16", "16"]


def test_neutralise_unit():
    assert exports.neutralise("=1+1") == "'=1+1"
    assert exports.neutralise("\t=x") == "'\t=x"
    assert exports.neutralise("ok = fine") == "ok = fine"
    assert exports.neutralise(5) == 5
    assert exports.neutralise("bad\x01char") == "badchar"


def test_json_follows_the_documented_schema(app, client, rich):
    consultation, organiser, items = rich
    reviewer_client = login(app.test_client(), _reviewer(app))
    response = reviewer_client.get(f"/consultations/{consultation.id}/summary/download.json")
    assert response.is_streamed
    document = json.loads(response.get_data())
    response.close()
    assert document["schema"] == "mesa-summary/1"
    assert set(document) >= {
        "title", "status", "version", "published_at", "generated_at", "consultations", "settings", "suppression",
        "totals", "by_objective", "focus_without_input", "participation", "representation", "comparison", "sections",
        "contributions", "empty",
    }
    assert document["status"] == "live"
    # A reviewer does not see the organiser's unpublished narrative.
    section = next(s for s in document["sections"] if s["key"] == "2k")
    assert section["narratives"] == [] and section["pinned"] == []
    assert len(document["by_objective"]) == 23
    assert {c["id"] for c in document["contributions"]} == {i.id for i in items}
    first = document["contributions"][0]
    assert set(first) == {
        "id", "url", "consultation_id", "consultation", "roundtable", "roundtable_date", "kind", "kind_label", "title",
        "body_md", "body_html", "objectives", "stakeholder_category", "stakeholder_category_label", "governance_level",
        "organisation", "voice", "created_on",
        # Issue 12: the annex row's further fields (services._contribution_dict).
        "governance_level_label", "on_behalf", "collected_by", "captured", "language", "principles", "answers",
    }
    assert first["roundtable"] == "Table on rescue and reception" and first["roundtable_date"] == "2024-02-15"


def _reviewer(app):
    from consultations.accounts.services import register_user

    from .conftest import PASSWORD

    user = register_user("reviewer-json@example.org", "Rita Reviewer", PASSWORD, role="reviewer")
    db.session.commit()
    return user


def test_markdown_download(app, client, rich):
    consultation, organiser, items = rich
    login(client, organiser)
    response, data = _get(client, f"/consultations/{consultation.id}/summary/download.md")
    text = data.decode()
    assert text.startswith("# Summary: Civil-society day 2024")
    assert "### Question 2 (k)" in text and "Spain's **search and rescue** is praised." in text
    assert "## Annex: all contributions" in text
    assert "#### \\=HYPERLINK" in text or "#### =HYPERLINK" not in text


def test_empty_consultation_gives_valid_documents_that_say_so(app, client, make_user, make_consultation):
    organiser = make_user(role="organiser")
    consultation = make_consultation(organiser=organiser, state="closed", focus=(5,))
    login(client, organiser)
    base = f"/consultations/{consultation.id}/summary"
    assert "No contributions yet" in client.get(base).get_data(as_text=True)
    _, docx = _get(client, base + "/download.docx")
    text, _ = _docx_text(docx)
    assert "This summary has no contributions yet" in text and "No contributions." in text
    _, pdf = _get(client, base + "/download.pdf")
    assert "This summary has no contributions yet" in _pdf_text(pdf)
    _, xlsx = _get(client, base + "/download.xlsx")
    workbook = load_workbook(io.BytesIO(xlsx))
    assert workbook["Contributions"].max_row == 1
    workbook.close()
    _, data = _get(client, base + "/download.json")
    document = json.loads(data)
    assert document["empty"] is True and document["contributions"] == []
    assert document["focus_without_input"][0]["objective"] == 5
    _, csv_data = _get(client, base + "/download.csv")
    assert csv_data.decode("utf-8-sig").strip() == ",".join(exports.CSV_COLUMNS)
    _, md = _get(client, base + "/download.md")
    assert "This summary has no contributions yet" in md.decode()
    assert client.get(base + "/download.exe").status_code == 404


def test_published_version_downloads_from_its_frozen_document(app, client, rich, make_contribution):
    consultation, organiser, items = rich
    services.publish(consultation, organiser, seen_revision=services.summary_for(consultation).revision)
    db.session.commit()
    # Later data changes do not touch the frozen version.
    items[1].status = "withdrawn"
    db.session.commit()
    login(client, organiser)
    _, data = _get(client, f"/consultations/{consultation.id}/summary/versions/1/download.xlsx")
    workbook = load_workbook(io.BytesIO(data))
    assert workbook["Contributions"].max_row == 6
    assert "Published version 1" in " ".join(str(c.value) for c in workbook["About"]["B"])
    workbook.close()
    _, docx = _get(client, f"/consultations/{consultation.id}/summary/versions/1/download.docx")
    assert ARABIC in _docx_text(docx)[0]


def test_demo_national_compilation_of_spain_2024_in_every_format(app, client):
    from consultations.demo import load_demo

    load_demo()
    db.session.commit()
    spain_2024 = list(
        db.session.scalars(
            select(Consultation).where(
                Consultation.territory == "Spain",
                Consultation.opens_on >= date(2024, 1, 1),
                Consultation.opens_on <= date(2024, 12, 31),
            )
        )
    )
    assert {c.kind for c in spain_2024} == {"civil_society_day", "inter_administration_day"}
    client.post("/login", data={"email": "reviewer@demo.mesa.example", "password": "demo-reviewer-2024"})
    query = "&".join(f"c={c.id}" for c in spain_2024)
    page = client.get(f"/summaries/national?{query}")
    assert page.status_code == 200
    assert "Salvamento Marítimo" in page.get_data(as_text=True) or "Consultations compared" in page.get_data(as_text=True)
    outputs = {}
    for fmt in exports.FORMATS:
        response, data = _get(client, f"/summaries/national/download.{fmt}?{query}")
        outputs[fmt] = data
    document = json.loads(outputs["json"])
    assert document["title"] == "National compilation of 2 consultations"
    assert len(document["consultations"]) == 2 and len(document["comparison"]["consultation_ids"]) == 2
    titles = {c["title"] for c in document["contributions"]}
    assert "Search and rescue at sea by Salvamento Marítimo" in titles
    assert "Basque Social Pact on Migration" in titles
    assert document["totals"]["contributions"] == len(document["contributions"])
    text, _ = _docx_text(outputs["docx"])
    assert "Consultations compared by objective" in text and "Basque Social Pact on Migration" in text
    assert "Salvamento Marítimo" in _pdf_text(outputs["pdf"])
    workbook = load_workbook(io.BytesIO(outputs["xlsx"]))
    assert workbook["Contributions"].max_row == len(document["contributions"]) + 1
    workbook.close()
    assert "Basque Social Pact" in outputs["csv"].decode("utf-8-sig")
    assert "# National compilation of 2 consultations" in outputs["md"].decode()
    for data in outputs.values():
        assert b"@demo.mesa.example" not in data


def test_word_and_pdf_are_bounded_in_size(app, client, rich):
    consultation, organiser, items = rich
    app.config["MESA_SUMMARY_DOCUMENT_LIMIT"] = 3
    login(client, organiser)
    for fmt in ("docx", "pdf"):
        response = client.get(f"/consultations/{consultation.id}/summary/download.{fmt}")
        assert response.status_code == 422
        assert "Word and PDF files are made for up to 3" in response.get_data(as_text=True)
    response = client.get(f"/consultations/{consultation.id}/summary/download.xlsx")
    assert response.status_code == 200
    response.close()


@pytest.mark.parametrize("locale", ["es", "ar"])
def test_documents_come_in_the_interface_language(app, client, rich, locale):
    """The summary page and every document are in the reader's language: headings,
    table headers, warnings, questionnaire, labels; user text stays as written."""
    from flask_babel import force_locale, gettext

    consultation, organiser, items = rich
    login(client, organiser)
    client.post("/language", data={"locale": locale, "next": "/"})
    with app.test_request_context(), force_locale(locale):
        words = {english: gettext(english) for english in (
            "Contents", "Whose voice", "Annex: all contributions", "Question %(number)s (%(item)s)",
            "Contributions by language", "By objective", "Good practice", "The review questionnaire",
        )}
        question = gettext(services.section("2k").question)
    for english, translated in words.items():
        assert translated and translated != english, english  # a real translation exists
    base = f"/consultations/{consultation.id}/summary"

    page = client.get(base).get_data(as_text=True)
    assert f'lang="{locale}"' in page and words["Whose voice"] in page and question in page
    assert "Whose voice" not in page and "Counts by GCM objective" not in page

    _, data = _get(client, base + "/download.docx")
    text, document = _docx_text(data)
    headings = [p.text for p in document.paragraphs if p.style.name.startswith("Heading")]
    assert headings[0] == words["Contents"] and words["Annex: all contributions"] in headings
    assert words["Question %(number)s (%(item)s)"] % {"number": 2, "item": "k"} in headings
    assert question in text and "Search and rescue by Salvamento Marítimo" in text  # user text as written
    assert words["Good practice"] in text and "Whose voice" not in text

    _, data = _get(client, base + "/download.xlsx")
    workbook = load_workbook(io.BytesIO(data))
    assert words["By objective"][:31] in workbook.sheetnames
    workbook.close()

    _, data = _get(client, base + "/download.md")
    assert f"## {words['Whose voice']}" in data.decode()

    _, data = _get(client, base + "/download.pdf")
    assert PdfReader(io.BytesIO(data)).trailer["/Root"]["/Lang"] == locale
    text = " ".join(_pdf_text(data).split())
    # pdftotext reorders right-to-left text (punctuation, lam-alef): read Spanish only.
    if PDFTOTEXT and locale != "ar":
        assert words["Annex: all contributions"] in text and question in text
