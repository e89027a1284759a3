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
