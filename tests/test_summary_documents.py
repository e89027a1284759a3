"""Summary documents ready to use (issue 12, the documents) and export hygiene (issue 10):
every download opened again with a real reader (python-docx, pypdf/pdftotext, openpyxl,
Python-Markdown) and checked for what a reader of the file would meet."""
from __future__ import annotations

import csv
import io
import os
import re
import shutil
import subprocess
import time
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
from .test_summaries_exports import ARABIC, EMOJI, PDFTOTEXT, _get, _pdf_text, rich  # noqa: F401 (fixture)

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


# -- issue 12: Word contents with page numbers, Word bidi ---------------------------------
SOFFICE = shutil.which("soffice") or shutil.which("libreoffice")
needs_office = pytest.mark.skipif(
    not SOFFICE, reason="LibreOffice (soffice) is not installed: make test installs libreoffice-writer-nogui"
)


def _contents_numbers(document) -> list[tuple[str, str, str]]:
    """(entry text, bookmark, shown page number) of each line of the Word contents."""
    lines = []
    for p in document.element.body.iter(f"{W}p"):
        instr = [i.text for i in p.iter(f"{W}instrText") if "PAGEREF" in i.text]
        if not instr:
            continue
        anchor = instr[0].split()[1]
        link = p.find(f"{W}hyperlink")
        text = "".join(t.text or "" for t in link.iter(f"{W}t"))
        # The field's shown result: the text runs between "separate" and "end".
        shown_value, inside = "", False
        for element in p.iter(f"{W}fldChar", f"{W}t"):
            if element.tag == f"{W}fldChar":
                kind = element.get(f"{W}fldCharType")
                inside = kind == "separate" if kind in ("separate", "end") else inside
            elif inside and element.getparent().getparent() is p:
                shown_value += element.text or ""
        lines.append((text, anchor, shown_value))
    return lines


def _office_pdf(docx: bytes, tmp_path) -> bytes:
    """The .docx as LibreOffice lays it out and prints it (what a reader opening it sees)."""
    source = tmp_path / "final.docx"
    source.write_bytes(docx)
    subprocess.run(
        [SOFFICE, f"-env:UserInstallation={(tmp_path / 'profile').as_uri()}", "--headless", "--convert-to", "pdf",
         "--outdir", str(tmp_path / "out"), str(source)],
        check=True, capture_output=True, timeout=180, env={**os.environ, "HOME": str(tmp_path)},
    )
    return (tmp_path / "out" / "final.pdf").read_bytes()


@needs_office
@pytest.mark.skipif(not PDFTOTEXT, reason="pdftotext (poppler-utils) is not installed")
@pytest.mark.parametrize("locale", ["es", "ar"])
def test_word_contents_show_the_pages_the_headings_are_on(app, client, rich, tmp_path, locale):  # noqa: F811
    consultation, organiser, _items = rich
    app.config["MESA_WORD_PAGE_NUMBERS"] = True
    # Narratives long enough that the questionnaire's headings fall on several pages.
    for key in ("1", "2a", "3"):
        services.update_section(consultation, key, seen_revision=services.summary_for(consultation).revision,
                                text=f"Narrative {key}. " + "Reception and rescue in every port. " * 120, objectives=None)
        db.session.commit()
    login(client, organiser)
    client.post("/language", data={"locale": locale, "next": "/"})
    _, data = _get(client, f"/consultations/{consultation.id}/summary/download.docx")
    lines = _contents_numbers(Document(io.BytesIO(data)))
    assert len(lines) == len(services.review_sections()) + 6  # six chapters and the annex here
    for text, _anchor, shown_value in lines:
        assert shown_value.isdigit(), (text, shown_value)  # a page number without updating a field
    numbers = [int(n) for _t, _a, n in lines]
    assert numbers == sorted(numbers) and numbers[0] >= 3 and numbers[-1] > numbers[0] + 2

    # The numbers are the pages LibreOffice lays the headings of the final file out on:
    # writing them in moved no heading.
    if locale == "ar":  # the bookmarks' pages (pdftotext does not give Arabic lines back as written)
        laid_out = exports.bookmark_pages(data, SOFFICE, 180)
        for _text, anchor, shown_value in lines:
            assert laid_out.get(anchor, laid_out.get(exports._pdf_name(anchor))) == int(shown_value), anchor
        return
    # Printed, as a reader sees it: each number next to its line in the contents, each
    # heading a line of its own on that page.
    result = subprocess.run([PDFTOTEXT, "-enc", "UTF-8", "-", "-"], input=_office_pdf(data, tmp_path),
                            capture_output=True, check=True)
    pages = [[" ".join(line.split()) for line in page.splitlines()] for page in result.stdout.decode().split("\f")]
    contents_page = next(i for i, page in enumerate(pages) if "Índice" in page)
    contents_text = " ".join(" ".join(" ".join(page) for page in pages[contents_page:contents_page + 2]).split())
    at = contents_page + 1
    for text, _anchor, shown_value in lines:
        assert f"{' '.join(text.split())} {shown_value}" in contents_text
        page = next(i for i in range(at, len(pages)) if " ".join(text.split()) in pages[i])
        assert page + 1 == int(shown_value), text
        at = page


def test_word_contents_without_libreoffice_keep_empty_page_numbers(app, client, rich, monkeypatch):  # noqa: F811
    consultation, organiser, _items = rich
    app.config["MESA_WORD_PAGE_NUMBERS"] = True
    monkeypatch.setattr(shutil, "which", lambda name, *a, **k: None)
    assert exports.office() is None
    login(client, organiser)
    response, data = _get(client, f"/consultations/{consultation.id}/summary/download.docx")
    assert response.status_code == 200
    lines = _contents_numbers(Document(io.BytesIO(data)))
    assert lines and all(shown_value == "" for _t, _a, shown_value in lines)
    app.config["MESA_WORD_PAGE_NUMBERS"] = False
    monkeypatch.undo()
    assert exports.office() is None  # switched off


@pytest.mark.parametrize("script, reason", [("exit 3", "RuntimeError"), ("sleep 30", "TimeoutExpired")])
def test_a_failing_or_stuck_libreoffice_never_breaks_the_word_download(
    app, client, rich, monkeypatch, tmp_path, caplog, script, reason  # noqa: F811
):
    consultation, organiser, _items = rich
    fake = tmp_path / "soffice"
    fake.write_text(f"#!/bin/sh\n{script}\n")
    fake.chmod(0o755)
    app.config.update(MESA_WORD_PAGE_NUMBERS=True, MESA_WORD_PAGES_SECONDS=2)
    monkeypatch.setattr(exports, "office", lambda: str(fake))
    login(client, organiser)
    started = time.monotonic()
    with caplog.at_level("WARNING", logger="consultations.summaries.exports"):
        response, data = _get(client, f"/consultations/{consultation.id}/summary/download.docx")
    assert response.status_code == 200 and time.monotonic() - started < 20
    lines = _contents_numbers(Document(io.BytesIO(data)))
    assert lines and all(shown_value == "" for _t, _a, shown_value in lines)  # no placeholder left
    assert any("Word contents without page numbers" in r.getMessage() and reason in r.getMessage()
               for r in caplog.records)


def test_spanish_names_inside_arabic_lines_of_the_word_file_are_isolated(app, client, rich):  # noqa: F811
    consultation, organiser, _items = rich
    login(client, organiser)
    client.post("/language", data={"locale": "ar", "next": "/"})
    _, data = _get(client, f"/consultations/{consultation.id}/summary/download.docx")
    document = Document(io.BytesIO(data))
    fsi, pdi = "\u2068", "\u2069"
    checked = 0
    for name in ("Civil-society day 2024", "Table on rescue and reception", "Search and rescue by Salvamento Marítimo"):
        paragraphs = [p for p in document.paragraphs if f"{fsi}{name}{pdi}" in p.text]
        assert paragraphs, name
        for p in paragraphs:
            assert p._p.pPr.find(f"{W}bidi") is not None and p._p.pPr.find(f"{W}bidi").get(f"{W}val") is None
            for run in p.runs:
                rtl = run._r.rPr is not None and run._r.rPr.find(f"{W}rtl") is not None
                if run.text == f"{fsi}{name}{pdi}":
                    assert not rtl  # the Spanish name: one left-to-right piece
                    checked += 1
                elif exports._RTL.search(run.text):
                    assert rtl  # the Arabic words around it
    assert checked >= 3
    # Arabic user text isolated in an Arabic line keeps its right-to-left run.
    arabic = [r for p in document.paragraphs for r in p.runs if r.text == f"{fsi}{ARABIC} {EMOJI}{pdi}"]
    assert arabic and all(r._r.rPr.find(f"{W}rtl") is not None for r in arabic)
    # In a left-to-right file the lines are as before: no marks.
    client.post("/language", data={"locale": "es", "next": "/"})
    _, data = _get(client, f"/consultations/{consultation.id}/summary/download.docx")
    assert fsi not in Document(io.BytesIO(data)).element.xml
