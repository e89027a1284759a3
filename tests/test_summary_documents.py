"""Summary documents ready to use (issue 12, the documents) and export hygiene (issue 10):
every download opened again with a real reader (python-docx, pypdf/pdftotext, openpyxl,
Python-Markdown) and checked for what a reader of the file would meet."""
from __future__ import annotations

import csv
import io
import re
import zipfile
from datetime import date

import markdown
import pytest
from docx import Document
from docx.shared import Mm
from openpyxl import load_workbook
from pypdf import PdfReader

from consultations.extensions import db
from consultations.summaries import exports, services

from .test_summaries import login, move
from .test_summaries_exports import ARABIC, PDFTOTEXT, _get, _pdf_text, rich  # noqa: F401 (fixture)

W = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"

HOSTILE_BODY = (
    "Intro <script>alert('x')</script> then <img src=x onerror=alert(1)> and "
    "[click](javascript:alert(1)) and <!-- c --> but a < b stays.\n\n"
    "[ref]: javascript:alert(2)\n"
)


@pytest.fixture
def hostile(make_user, make_org, make_consultation, make_contribution):
    organiser = make_user(role="organiser")
    consultation = make_consultation(organiser=organiser, title="Hygiene day", focus=(2,))
    author = make_user(organisation=make_org(category="ngo"))
    first = make_contribution(consultation, author=author, title="=1+2", objectives=(2,), body=HOSTILE_BODY)
    make_contribution(consultation, author=author, title="<b onmouseover=alert(3)>bold</b>", objectives=(2,))
    third = make_contribution(consultation, author=author, title="Plain", objectives=(3,))
    # Forms strip the ends of what people type; imported or older rows may keep them.
    first.title = " =1+2"
    third.body_md = "\t=cmd"
    db.session.commit()
    move(consultation, "closed")
    return consultation, organiser


# -- issue 10: export hygiene ------------------------------------------------------
@pytest.mark.parametrize("fmt", sorted(exports.FORMATS))
def test_every_download_names_its_charset_once(app, client, hostile, fmt):
    consultation, organiser = hostile
    login(client, organiser)
    response, _data = _get(client, f"/consultations/{consultation.id}/summary/download.{fmt}")
    content_type = response.headers["Content-Type"]
    assert content_type.count("charset") <= 1, content_type
    if fmt in ("csv", "md"):
        assert content_type == f"{exports.FORMATS[fmt][0]}; charset=utf-8"


def test_csv_neutralises_formulas_behind_leading_spaces(app, client, hostile):
    consultation, organiser = hostile
    login(client, organiser)
    _, data = _get(client, f"/consultations/{consultation.id}/summary/download.csv")
    assert data.startswith(b"\xef\xbb\xbf")  # UTF-8 byte order mark: Excel reads UTF-8
    rows = list(csv.DictReader(io.StringIO(data.decode("utf-8-sig"))))
    titles = {r["title"] for r in rows}
    bodies = {r["body"] for r in rows}
    assert "' =1+2" in titles and "'\t=cmd" in bodies
    for row in rows:
        for value in row.values():
            assert not re.match(r"^\s*[=+\-@]", value), value


def test_neutralise_sees_through_leading_whitespace():
    assert exports.neutralise(" =1+1") == "' =1+1"
    assert exports.neutralise("\u00a0\u00a0+1") == "'\u00a0\u00a0+1"
    assert exports.neutralise("  plain") == "  plain"


def test_spreadsheet_text_cells_have_no_stray_apostrophe(app, client, hostile):
    consultation, organiser = hostile
    login(client, organiser)
    _, data = _get(client, f"/consultations/{consultation.id}/summary/download.xlsx")
    sheet = load_workbook(io.BytesIO(data))["Contributions"]
    header = [c.value for c in sheet[1]]
    cells = {row[header.index("title")].value: row[header.index("title")] for row in sheet.iter_rows(min_row=2)}
    assert " =1+2" in cells and "' =1+2" not in cells
    assert cells[" =1+2"].data_type == "s" and cells[" =1+2"].quotePrefix
    # No formula anywhere in the package, whatever the text.
    with zipfile.ZipFile(io.BytesIO(data)) as package:
        for name in package.namelist():
            if name.startswith("xl/worksheets/"):
                assert "<f>" not in package.read(name).decode()


def test_markdown_download_runs_nothing_in_an_html_rendering_viewer(app, client, hostile):
    consultation, organiser = hostile
    login(client, organiser)
    _, data = _get(client, f"/consultations/{consultation.id}/summary/download.md")
    text = data.decode()
    assert "<script" not in text and "<img" not in text and "<b " not in text
    rendered = markdown.markdown(text)  # what a Markdown viewer shows
    assert "<script" not in rendered and "<img" not in rendered
    assert not re.search(r"<[^>]*\son\w+=", rendered)  # no event handler in any tag
    assert 'href="javascript:' not in rendered
    assert "&lt;script&gt;alert" in rendered  # the text is still there, as text
    assert "a &lt; b stays" in rendered


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_csv_and_spreadsheet_hold_no_live_html(app, client, hostile, fmt):
    consultation, organiser = hostile
    login(client, organiser)
    _, data = _get(client, f"/consultations/{consultation.id}/summary/download.{fmt}")
    if fmt == "csv":
        values = [v for row in csv.reader(io.StringIO(data.decode("utf-8-sig"))) for v in row]
    else:
        workbook = load_workbook(io.BytesIO(data))
        values = [str(c.value) for ws in workbook for row in ws.iter_rows() for c in row if c.value is not None]
    joined = "\n".join(values)
    assert not re.search(r"<(script|img|b|!--)", joined), joined
    assert "&lt;script>alert('x')&lt;/script>" in joined  # kept, readable, inert
    assert "a < b stays" in joined


def test_file_names_say_what_the_file_is(app, client, rich):  # noqa: F811
    consultation, organiser, _items = rich
    login(client, organiser)
    response, _data = _get(client, f"/consultations/{consultation.id}/summary/download.docx")
    today = date.today().isoformat()
    assert response.headers["Content-Disposition"] == (
        f'attachment; filename="summary-civil-society-day-2024-en-{today}.docx"'
    )
    services.publish(consultation, organiser, seen_revision=services.summary_for(consultation).revision)
    db.session.commit()
    client.post("/language", data={"locale": "es", "next": "/"})
    response, _data = _get(client, f"/consultations/{consultation.id}/summary/versions/1/download.pdf")
    assert re.fullmatch(r'attachment; filename="[a-z0-9-]+-es-v1\.pdf"', response.headers["Content-Disposition"])


def test_a_title_in_arabic_gets_a_utf8_file_name(app, make_user, make_consultation):
    meta = {"title": ARABIC, "version": 2, "generated_at": "2024-05-01T10:00:00"}
    with app.test_request_context("/?lang=ar"):
        header = exports.content_disposition(meta, "pdf")
    assert header.startswith('attachment; filename="mesa-summary-ar-v2.pdf"; filename*=UTF-8\'\'')
    assert "%D8%AA" in header  # the Arabic title, percent-encoded


# -- issue 12: documents ready to use ------------------------------------------------
def _annex_counts(csv_data: bytes) -> dict:
    rows = list(csv.DictReader(io.StringIO(csv_data.decode("utf-8-sig"))))
    by_kind = {k: sum(r["kind"] == k for r in rows) for k in ("challenge", "proposal", "good_practice")}
    return {"total": len(rows), **by_kind, "rows": rows}


def _agrees(shown_value: str, true: int, threshold: int) -> bool:
    """A figure a document shows is true of the annex: the number itself, "<t" for 1..t-1,
    or "×" (not given)."""
    shown_value = shown_value.strip()
    if shown_value == "×":
        return True
    if shown_value == f"<{threshold}":
        return 0 < true < threshold
    return int(re.sub(r"[^\d]", "", shown_value) or -1) == true


@pytest.mark.parametrize("locale", ["es", "ar"])
def test_documents_open_in_real_readers_ready_to_use(app, client, rich, locale):  # noqa: F811
    consultation, organiser, _items = rich
    login(client, organiser)
    client.post("/language", data={"locale": locale, "next": "/"})
    base = f"/consultations/{consultation.id}/summary"
    _, csv_data = _get(client, base + "/download.csv")
    annex = _annex_counts(csv_data)
    assert annex["rows"][0]["url"].startswith("http://localhost/contributions/")  # absolute
    assert {"language", "guiding_principles", "answers_challenges", "roundtable", "on_behalf"} <= set(annex["rows"][0])

    # Word: A4, the file's language, header rows repeated, fixed widths, RTL in Arabic.
    _, data = _get(client, base + "/download.docx")
    document = Document(io.BytesIO(data))
    section = document.sections[0]
    assert abs(section.page_width - Mm(210)) < Mm(1) and abs(section.page_height - Mm(297)) < Mm(1)
    lang = document.styles.element.find(f"{W}docDefaults").find(f".//{W}lang")
    assert lang.get(f"{W}val") == {"es": "es-ES", "ar": "ar-SA"}[locale]
    assert document.core_properties.language == lang.get(f"{W}val")
    assert document.core_properties.title == document.paragraphs[0].text
    assert document.core_properties.created.year >= 2024 and document.core_properties.author
    xml = document.element.xml
    assert "No narrative written for this section" not in xml
    for table in document.tables:
        first = table.rows[0]._tr
        assert first.trPr.find(f"{W}tblHeader") is not None
        assert table._tbl.tblPr.find(f"{W}tblLayout").get(f"{W}type") == "fixed"
        widths = [cell.width for cell in table.rows[0].cells]
        assert all(widths) and sum(widths) <= Mm(171)
        assert (table._tbl.tblPr.find(f"{W}bidiVisual") is not None) == (locale == "ar")
    # Objective names do not wrap over many lines: the name column is the widest.
    by_objective = next(t for t in document.tables if t.rows[1].cells[0].text.startswith(("8.", "15.", "16.")))
    widths = [c.width for c in by_objective.rows[0].cells]
    assert widths[0] == max(widths) and widths[0] > Mm(60)
    # Contents: every chapter and every question, linked to its heading, with a page reference.
    assert xml.count("PAGEREF q_") == len(services.review_sections())
    assert 'w:anchor="q_2k"' in xml and 'w:name="q_2k"' in xml
    # Every figure of the totals table agrees with the CSV annex of the same summary.
    t = 3
    totals = [c.text for c in document.tables[0].rows[1].cells]
    for shown_value, true in zip(totals, (annex["total"], annex["challenge"], annex["proposal"], annex["good_practice"])):
        assert _agrees(shown_value, true, t), (shown_value, true)

    # PDF: tagged, in the file's language.
    _, data = _get(client, base + "/download.pdf")
    reader = PdfReader(io.BytesIO(data))
    root = reader.trailer["/Root"]
    assert root["/Lang"] == locale and "/StructTreeRoot" in root and root["/MarkInfo"]["/Marked"]
    assert reader.pages[0].mediabox.width == pytest.approx(595.28, abs=1)  # A4
    if PDFTOTEXT and locale == "es":
        text = " ".join(_pdf_text(data).split())
        assert "No narrative written for this section" not in text
        assert str(annex["total"]) in text

    # Spreadsheet: widths, frozen header, autofilter, dates, numbers, RTL in Arabic.
    _, data = _get(client, base + "/download.xlsx")
    workbook = load_workbook(io.BytesIO(data))
    for ws in workbook:
        assert ws.freeze_panes == "A2", ws.title
        assert ws.auto_filter.ref and ws.auto_filter.ref.startswith("A1:"), ws.title
        assert ws.sheet_view.rightToLeft == (locale == "ar"), ws.title
        assert ws.column_dimensions["A"].width >= 8, ws.title
    sheet = workbook.worksheets[-1]
    header = [c.value for c in sheet[1]]
    assert header == exports.CSV_COLUMNS and sheet.max_row == annex["total"] + 1
    rows = list(sheet.iter_rows(min_row=2, values_only=True))
    assert all(hasattr(r[header.index("created_on")], "year") for r in rows)  # date cells
    assert any(isinstance(r[header.index("objectives")], int) for r in rows)  # single objective: a number
    kinds = {r[header.index("kind")]: r[header.index("kind_label")] for r in rows}
    from flask_babel import force_locale, gettext

    with app.test_request_context(), force_locale(locale):
        assert kinds["challenge"] == gettext("Challenge")  # codes and labels in their own columns
    workbook.close()


def test_numbers_and_percentages_are_written_the_way_the_language_writes_them(app):
    from flask_babel import force_locale

    with app.test_request_context(), force_locale("es"):
        assert exports.percent(41.7) == "41,7\xa0%"
        assert exports.number(12345) == "12.345"
        assert exports.day("2024-02-15") == "15 de febrero de 2024"
        assert exports.shown("complementary", 3) == "×" and exports.shown(None, 3) == "<3"
    with app.test_request_context(), force_locale("en"):
        assert exports.percent(41.7) == "41.7%" and exports.number(12345) == "12,345"
