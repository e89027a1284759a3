"""Downloads of a compiled summary: Word, PDF, spreadsheet, CSV, JSON, Markdown.

Every exporter reads a :class:`~.services.Compiled` summary: its ``meta`` (statistics,
sections, narrative) and its contributions, streamed. None of them sees a personal
name or an e-mail address: the compilation never selects them.

The words, numbers and dates of a document are written in the language of the request
that makes it ("the file's language", :func:`file_locale`): Babel formats the numbers
("41,7 %" in Spanish) and dates; labels are looked up again from the codes the compiled
summary carries, so a published version downloaded in another language is labelled in
that language. What people wrote stays as they wrote it.
"""
from __future__ import annotations

import csv
import gc
import html
import io
import json
import logging
import re
import unicodedata
from contextlib import contextmanager
from datetime import date, datetime
from decimal import Decimal
from typing import Iterable, Iterator
from urllib.parse import quote

from babel import numbers as babel_numbers
from flask_babel import gettext as _

from ..i18n import current_locale, format_day, text_direction
from ..reference import CONTRIBUTION_KINDS, LANGUAGES, STAKEHOLDER_CATEGORIES, N_, category_label, level_label, objective
from .charts import Chart, charts_for

log = logging.getLogger(__name__)

# The labels are translated when shown (templates/summaries/_pages.html). Text types get
# "; charset=utf-8" from Flask (Werkzeug adds it to every text/* mimetype): not here.
FORMATS = {
    "docx": ("application/vnd.openxmlformats-officedocument.wordprocessingml.document", N_("Word")),
    "pdf": ("application/pdf", N_("PDF")),
    "xlsx": ("application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", N_("Spreadsheet (.xlsx)")),
    "csv": ("text/csv", N_("CSV")),
    "json": ("application/json", N_("JSON")),
    "md": ("text/markdown", N_("Markdown")),
}

# The annex in CSV and in the spreadsheet's Contributions sheet. The first fourteen keep
# the places they had in earlier files (for scripts reading columns by position); codes
# and labels (in the file's language) have columns of their own.
CSV_COLUMNS = [
    "id", "url", "consultation_id", "consultation", "roundtable", "roundtable_date", "kind", "title", "body",
    "objectives", "stakeholder_category", "governance_level", "organisation", "created_on",
    "kind_label", "language", "language_label", "guiding_principles", "answers_challenges",
    "stakeholder_category_label", "governance_level_label", "voice", "on_behalf",
]
# Spreadsheet column widths (characters) of the annex, which is streamed.
_ANNEX_WIDTHS = {
    "id": 8, "url": 40, "consultation_id": 10, "consultation": 30, "roundtable": 28, "roundtable_date": 12,
    "kind": 14, "title": 45, "body": 80, "objectives": 11, "stakeholder_category": 24, "governance_level": 14,
    "organisation": 28, "created_on": 12, "kind_label": 16, "language": 9, "language_label": 14,
    "guiding_principles": 30, "answers_challenges": 18, "stakeholder_category_label": 28,
    "governance_level_label": 16, "voice": 40, "on_behalf": 32,
}
_ANNEX_DATES = {"roundtable_date", "created_on"}

# A value that a spreadsheet would run as a formula starts (after any spaces) with one of
# these; OWASP's list, with the tab and carriage return.
_FORMULA = re.compile(r"^[\s\u00a0\u3000]*[=+\-@\t\r]")
# Characters XML 1.0 (and so .docx and .xlsx) cannot hold.
_XML_ILLEGAL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")
_RTL = re.compile("[\u0590-\u08ff\ufb1d-\ufdff\ufe70-\ufefc]")
# "<" that would open an HTML tag, comment, declaration or processing instruction.
_TAG_OPEN = re.compile(r"<(?=[A-Za-z/!?])")


def _formula_like(value: str) -> bool:
    return bool(_FORMULA.match(value))


def neutralise(value):
    """A CSV cell that can never run as a formula: text starting (after any spaces) with
    = + - @, a tab or a carriage return gets a leading apostrophe, as OWASP recommends."""
    if isinstance(value, str):
        value = _XML_ILLEGAL.sub("", value)
        if _formula_like(value):
            return "'" + value
    return value


def inert_html(value):
    """Text that an HTML-rendering tool (a CSV or spreadsheet preview in a web page, a
    Markdown viewer) shows as text: every "<" that would open a tag becomes "&lt;"
    ("a < b" stays as it is). Used on the free-text cells of CSV and spreadsheet."""
    if isinstance(value, str):
        return _TAG_OPEN.sub("&lt;", value)
    return value


def xml_safe(value: str) -> str:
    return _XML_ILLEGAL.sub("", value or "")


# -- the file's language: numbers, percentages, dates ---------------------------------
def file_locale() -> str:
    return current_locale()


def number(n) -> str:
    """A count as the file's language writes it ("12.345" in Spanish)."""
    return babel_numbers.format_decimal(n, locale=file_locale())


def percent(p) -> str:
    """A share given in percent (41.7) as the file's language writes it ("41,7 %")."""
    if p is None:
        return ""
    return babel_numbers.format_percent(Decimal(str(p)) / 100, locale=file_locale(), decimal_quantization=False)


def day(value) -> str:
    """An ISO date or date-time (as the compiled summary holds them) in the file's language."""
    if not value:
        return ""
    if isinstance(value, str):
        try:
            value = date.fromisoformat(value[:10])
        except ValueError:
            return value
    return format_day(value)


def _iso_date(value) -> date | None:
    if not value:
        return None
    try:
        return date.fromisoformat(str(value)[:10])
    except ValueError:
        return None


def hidden_reason(n) -> str | None:
    """Why a published count is hidden: "primary" (fewer than the threshold),
    "complementary" (hidden to protect another cell, may be large), or None (shown)."""
    if n is None:
        return "primary"
    if isinstance(n, dict):
        return n.get("hidden") or n.get("reason") or "primary"
    if isinstance(n, str):
        return n
    return None


def shown(n, threshold: int) -> str:
    """A published count: the number in the file's language, "<3" when it is hidden
    because it is small, "×" when it is hidden to protect another count."""
    reason = hidden_reason(n)
    if reason is None:
        return number(n)
    if reason == "complementary":
        return "×"
    return f"<{threshold}"


def voice_comparison_table(meta: dict) -> tuple[list[str], list[list]] | None:
    """The comparison by voice (administrations by governance level against civil
    society by category) as one header and rows of counts, the last row the totals; None
    when the compilation has no such columns. Every writer renders this one shape."""
    vc = meta.get("voice_comparison") or {}
    columns = vc.get("columns") or []
    if not columns:
        return None
    header = [_("GCM objective")] + [
        (_("Administrations") if c["side"] == "administrations" else _("Civil society")) + ": " + c["label"]
        for c in columns
    ]
    rows: list[list] = [
        [_objective_label(r["objective"]), *r["counts"]] for r in vc["rows"] if any(r["counts"])
    ]
    rows.append([_("Total"), *vc["totals"]])
    return header, rows


def value_of(n):
    """A count for a numeric cell: the number, or the marker when it is hidden."""
    return n if hidden_reason(n) is None else None


def plain_text(body_html: str) -> str:
    """Sanitised HTML to plain text, paragraphs kept."""
    text = re.sub(r"<br\s*/?>", "\n", body_html or "")
    text = re.sub(r"</(p|li|h[2-6]|blockquote|pre|tr)>", "\n", text)
    text = re.sub(r"<li>", "• ", text)
    text = re.sub(r"<[^>]+>", "", text)
    return re.sub(r"\n{3,}", "\n\n", html.unescape(text)).strip()


def _slug(text: str, ascii_only: bool) -> str:
    text = unicodedata.normalize("NFKD", text or "")
    if ascii_only:
        text = text.encode("ascii", "ignore").decode("ascii")
    text = "".join(ch for ch in text if not unicodedata.combining(ch))
    text = re.sub(r"[^\w]+", "-", text.lower(), flags=re.UNICODE).strip("-_")
    return text[:80].rstrip("-_")


def filename(meta: dict, ext: str, ascii_only: bool = True) -> str:
    """What the file is: its title, the file's language, and the version (a published
    one) or the date it was compiled: ``summary-civil-society-day-2024-es-v2.docx``."""
    stamp = f"v{meta['version']}" if meta.get("version") else (meta.get("generated_at") or "")[:10]
    title = _slug(meta.get("title") or "", ascii_only) or "mesa-summary"
    return f"{title}-{file_locale()}-{stamp}.{ext}".replace("--", "-")


def content_disposition(meta: dict, ext: str) -> str:
    """An attachment header with an ASCII name and, for titles in other scripts, the
    UTF-8 name (RFC 6266 / 5987) that browsers prefer."""
    ascii_name = filename(meta, ext)
    full = filename(meta, ext, ascii_only=False)
    header = f'attachment; filename="{ascii_name}"'
    if full != ascii_name:
        header += f"; filename*=UTF-8''{quote(full)}"
    return header


def status_line(meta: dict) -> str:
    if meta["status"] == "published":
        return _("Published version %(number)s, %(date)s", number=meta["version"], date=day(meta["published_at"]))
    if meta["status"] == "draft":
        return _("Draft, not published — compiled %(date)s", date=day(meta["generated_at"]))
    return _("Compiled %(date)s", date=day(meta["generated_at"]))


def absolute(url: str | None, base_url: str = "") -> str:
    """A link on the Mesa site as an absolute URL (MESA_BASE_URL, else the request's host)."""
    if not url or "://" in url:
        return url or ""
    if not base_url:
        from flask import current_app, has_request_context, request

        base_url = current_app.config.get("MESA_BASE_URL") or (request.url_root if has_request_context() else "")
    return base_url.rstrip("/") + url


# The words of the documents are in the interface language of the request that makes
# them (a published version keeps the language it was published in).
_MEASURES = {"contributions": lambda: _("Contributions"), "attendance": lambda: _("Attendance")}


def _labels(labels: dict) -> list[str]:
    """The translated labels of a reference dict (kinds, stakeholder categories)."""
    return [_(label) for label in labels.values()]


def _totals_header() -> list[str]:
    return [_("Contributions"), _("Challenges"), _("Proposals"), _("Good practices"), _("Attendance")]


def _objective_label(n: int) -> str:
    return objective(n).label


def _objectives_text(numbers) -> str:
    return "; ".join(str(n) for n in numbers)


def _kind_label(c: dict) -> str:
    return _(CONTRIBUTION_KINDS[c["kind"]]) if c.get("kind") in CONTRIBUTION_KINDS else c.get("kind_label", "")


def _language_label(code: str | None) -> str:
    if not code:
        return ""
    return _(LANGUAGES[code]) if code in LANGUAGES else code


def _principles(c: dict) -> list[str]:
    """The guiding principles of an annex row (keys), whatever the row calls them."""
    found = c.get("principles") or c.get("guiding_principles") or []
    return [p if isinstance(p, str) else p.get("key", "") for p in found]


def _principle_label(key: str) -> str:
    from ..reference import principles_by_key

    p = principles_by_key().get(key)
    return p.title if p else key


def _answers(c: dict) -> list[int]:
    """The challenges (ids) a proposal answers."""
    found = c.get("answers") or c.get("answers_challenges") or []
    return [a if isinstance(a, int) else a.get("id") for a in found]


def _on_behalf(c: dict) -> str:
    """Who collected the input, for a contribution made on behalf of people without an account."""
    value = c.get("on_behalf") or c.get("collected_by") or ""
    if isinstance(value, dict):
        value = value.get("label") or value.get("name") or ""
    return value


def isolate(text: str) -> str:
    """Text set apart for the bidirectional algorithm (FIRST STRONG ISOLATE ... POP
    DIRECTIONAL ISOLATE): a Spanish name inside an Arabic line stays in one piece."""
    return f"\u2068{text}\u2069" if text else text


def _provenance(c: dict, iso=lambda text: text) -> str:
    parts = [_kind_label(c), iso(c["voice"]), iso(c["consultation"])]
    if c["roundtable"]:
        parts.append(_("roundtable “%(title)s” (%(date)s)", title=iso(c["roundtable"]), date=day(c["roundtable_date"])))
    parts.append(_("objectives %(numbers)s", numbers=", ".join(str(n) for n in c["objectives"])))
    parts.append(_("ref. #%(id)s", id=c["id"]))
    return " · ".join(parts)


def annex_row(c: dict, base_url: str = "") -> dict:
    """One contribution of the annex, in the columns of :data:`CSV_COLUMNS`: codes, labels
    in the file's language, an absolute URL, dates as dates. Text as the contributor
    wrote it (Markdown), with what an HTML renderer would run made inert."""
    principles = _principles(c)
    return {
        "id": c["id"],
        "url": absolute(c["url"], base_url),
        "consultation_id": c["consultation_id"],
        "consultation": inert_html(c["consultation"]),
        "roundtable": inert_html(c["roundtable"] or ""),
        "roundtable_date": _iso_date(c["roundtable_date"]),
        "kind": c["kind"],
        "title": inert_html(c["title"]),
        "body": inert_html(c["body_md"]),
        "objectives": c["objectives"],
        "stakeholder_category": c["stakeholder_category"],
        "governance_level": c["governance_level"] or "",
        "organisation": inert_html(c["organisation"] or ""),
        "created_on": _iso_date(c["created_on"]),
        "kind_label": _kind_label(c),
        "language": c.get("language") or "",
        "language_label": _language_label(c.get("language")),
        "guiding_principles": "; ".join(_principle_label(k) for k in principles),
        "answers_challenges": "; ".join(f"#{i}" for i in _answers(c) if i),
        "stakeholder_category_label": category_label(c["stakeholder_category"]),
        "governance_level_label": level_label(c["governance_level"]) if c["governance_level"] else "",
        "voice": inert_html(c["voice"]),
        "on_behalf": inert_html(_on_behalf(c)),
    }


# -- CSV (streamed) ----------------------------------------------------------------
class _Line:
    def __init__(self):
        self.value = ""

    def write(self, text):
        self.value = text


def _csv_value(key: str, value):
    if key == "objectives":
        return _objectives_text(value)
    if isinstance(value, date):
        return value.isoformat()
    return value


def csv_rows(compiled, base_url: str = "") -> Iterator[list]:
    yield CSV_COLUMNS
    for c in compiled.contributions():
        row = annex_row(c, base_url)
        yield [_csv_value(k, row[k]) for k in CSV_COLUMNS]


def csv_chunks(compiled, base_url: str = "") -> Iterator[str]:
    """The contributions with their provenance, one line at a time (constant memory)."""
    line = _Line()
    writer = csv.writer(line)
    yield "\ufeff"  # the byte order mark: spreadsheet programs then read UTF-8
    for row in csv_rows(compiled, base_url):
        writer.writerow([neutralise(v) for v in row])
        yield line.value


# -- JSON (streamed) ---------------------------------------------------------------
def json_chunks(compiled) -> Iterator[str]:
    head = json.dumps(compiled.meta, ensure_ascii=False)
    yield head[:-1] + ', "contributions": ['
    first = True
    for c in compiled.contributions():
        yield ("" if first else ",\n") + json.dumps(c, ensure_ascii=False)
        first = False
    yield "]}\n"


# -- Markdown (streamed) -----------------------------------------------------------
# A Markdown viewer renders raw HTML and follows links: user text is written with every
# "<" that would open a tag as the entity "&lt;" (which every Markdown processor shows as
# "<", never as a tag), and links to schemes other than http(s)/mailto turned back into
# text (an escaped bracket).
_MD_UNSAFE_LINK = re.compile(r"\]\((?=\s*<?\s*(?!https?:|mailto:)[A-Za-z][A-Za-z0-9+.\-]*:)", re.IGNORECASE)
_MD_UNSAFE_REFERENCE = re.compile(
    r"^(\s{0,3})\[(?=[^\]]+\]:\s*<?\s*(?!https?:|mailto:)[A-Za-z][A-Za-z0-9+.\-]*:)", re.IGNORECASE | re.MULTILINE
)


def md_text(text: str) -> str:
    """User Markdown that a Markdown viewer renders without running anything."""
    text = _TAG_OPEN.sub("&lt;", text or "")
    text = _MD_UNSAFE_LINK.sub(r"]\\(", text)
    return _MD_UNSAFE_REFERENCE.sub(r"\1\\[", text)


def _md_cell(value) -> str:
    return md_text(str(value)).replace("|", "\\|").replace("\n", " ")


def _md_table(header: list, rows: Iterable[list]) -> str:
    out = ["| " + " | ".join(_md_cell(h) for h in header) + " |", "|" + "---|" * len(header)]
    out += ["| " + " | ".join(_md_cell(v) for v in row) + " |" for row in rows]
    return "\n".join(out) + "\n\n"


def _md_line(text: str) -> str:
    """A single line of user text that cannot open a heading, list or table."""
    text = md_text((text or "").replace("\n", " "))
    return re.sub(r"^([#>*+\-|=]|\d+\.)", r"\\\1", text)


def _shares_rows(rep: dict, t: int) -> list[list]:
    return [
        [category_label(a["category"]), shown(a["count"], t), percent(a["percent"]), shown(b["count"], t), percent(b["percent"])]
        for a, b in zip(rep["contributions"]["shares"], rep["attendance"]["shares"])
    ]


def _participation_rows(rows: list[dict], t: int) -> list[list]:
    return [
        [category_label(r["category"]), level_label(r["governance_level"]) if r["governance_level"] else "", shown(r["count"], t)]
        for r in rows
    ]


def _consultation_line(c: dict, iso=lambda text: text) -> str:
    territory = iso(c["territory"]) if c["territory"] else _("no territory")
    return f"{iso(c['title'])} — {c['kind_label']}, {territory}, {day(c['opens_on'])} – {day(c['closes_on'])}"


def _marker_notes(meta: dict) -> dict[str, str]:
    """{reason: the note under a table that uses its marker}, in the compiled summary's
    own wording (services.marker_notes) when it has one."""
    from . import services

    t = meta["suppression"]["threshold"]
    texts = getattr(services, "marker_notes", None)
    if texts is not None:
        notes = texts(t)
        return {"primary": notes[f"<{t}"], "complementary": notes["×"]}
    return {
        "primary": _("“<%(t)s”: fewer than %(t)s, not published.", t=t),
        "complementary": _("“×”: not published, so that a hidden count cannot be worked out from the total of its row."),
    }


def _hidden_notes(meta: dict) -> list[str]:
    """The notes that explain the markers ("<3", "×") a summary may use."""
    notes = _marker_notes(meta)
    return [notes["primary"]] + ([notes["complementary"]] if meta["suppression"].get("complementary") else [])


def _empty_sections(meta: dict) -> list[str]:
    return [s["label"] for s in meta["sections"] if not s["narratives"]]


def markdown_chunks(compiled) -> Iterator[str]:
    meta = compiled.meta
    t = meta["suppression"]["threshold"]
    yield f"# {_md_line(meta['title'])}\n\n*{status_line(meta)}*\n\n"
    yield f"## {_('About this summary')}\n\n"
    for c in meta["consultations"]:
        yield f"- {_md_line(_consultation_line(c))}\n"
    yield "\n" + meta["suppression"]["note"] + "\n\n"
    if meta["empty"]:
        yield f"**{_('This summary has no contributions yet.')}**\n\n"
    totals = meta["totals"]
    yield _md_table(
        _totals_header(),
        [[shown(totals["contributions"], t), shown(totals["challenge"], t), shown(totals["proposal"], t),
          shown(totals["good_practice"], t), shown(totals["attendance"], t)]],
    )
    if meta.get("by_language"):
        yield f"**{_('Contributions by language')}**\n\n"
        yield _md_table([_("Language"), _("Contributions")],
                        [[_language_label(r["language"]), shown(r["count"], t)] for r in meta["by_language"]])
    yield f"## {_('Whose voice')}\n\n"
    for w in meta["representation"]["warnings"]:
        yield f"> **{_('Warning:')}** {w['message']}\n\n"
    rep = meta["representation"]
    yield _md_table(
        [_("Stakeholder category"), _("Contributions"), _("Share"), _("Attendance"), _("Share")], _shares_rows(rep, t)
    )
    yield f"## {_('Participation by category and governance level')}\n\n"
    for measure in ("contributions", "attendance"):
        rows = meta["participation"][measure]
        yield f"**{_MEASURES[measure]()}**\n\n"
        if rows:
            yield _md_table([_("Stakeholder category"), _("Governance level"), _("Count")], _participation_rows(rows, t))
        else:
            yield _("None recorded.") + "\n\n"
    yield f"## {_('Contributions by GCM objective')}\n\n"
    yield _md_table(
        [_("GCM objective"), *_labels(CONTRIBUTION_KINDS), _("Total")],
        [[_objective_label(r["objective"]), *(shown(r["kinds"][k], t) for k in CONTRIBUTION_KINDS), shown(r["total"], t)]
         for r in meta["by_objective"]],
    )
    yield "".join(f"*{note}*\n" for note in _hidden_notes(meta)) + "\n"
    if meta["focus_without_input"]:
        yield f"**{_('Objectives in focus that received no input:')}** " + ", ".join(
            _objective_label(f["objective"]) for f in meta["focus_without_input"]
        ) + "\n\n"
    yield f"## {_('The review questionnaire')}\n\n"
    empty = _empty_sections(meta)
    if empty:
        yield "*" + _("No narrative has been written yet for: %(sections)s.", sections=", ".join(empty)) + "*\n\n"
    for s in meta["sections"]:
        yield f"### {s['label']}\n\n*{_md_line(s['question'])}*\n\n"
        for n in s["narratives"]:
            if len(meta["consultations"]) > 1:
                yield f"**{_md_line(n['consultation'])}**\n\n"
            yield md_text(n["text_md"].strip()) + "\n\n"
        cited = s["pinned"] or s["proposed"]
        if cited:
            yield (_("Cited contributions:") if s["pinned"] else _("Related contributions (proposed from the objectives):")) + "\n\n"
            for c in cited:
                yield f"- {_md_line(c['title'])} — {_md_line(_provenance(c))}\n"
            more = s["proposed_count"] - len(s["proposed"]) if not s["pinned"] else 0
            if more > 0:
                yield "- " + _("… and %(n)s more in the annex", n=number(more)) + "\n"
            yield "\n"
    if len(meta["consultations"]) > 1:
        yield f"## {_('Consultations compared by objective')}\n\n"
        titles = [c["title"] for c in meta["consultations"]]
        yield _md_table(
            [_("GCM objective"), *titles],
            [[_objective_label(r["objective"]), *(shown(n, t) for n in r["counts"])] for r in meta["comparison"]["rows"]],
        )
        voices = voice_comparison_table(meta)
        if voices:
            yield f"### {_('Administrations and civil society compared by objective')}\n\n"
            yield _md_table(voices[0], [[r[0], *(shown(n, t) for n in r[1:])] for r in voices[1]])
    yield f"## {_('Good practices')}\n\n"
    any_gp = False
    for c in compiled.good_practices():
        any_gp = True
        yield f"- **{_md_line(c['title'])}** — {_md_line(_provenance(c))}\n"
    yield ("\n" if any_gp else _("No good practices were contributed.") + "\n\n")
    yield f"## {_('Annex: all contributions')}\n\n"
    current = None
    any_c = False
    for c in compiled.contributions():
        any_c = True
        if c["objectives"][0] != current:
            current = c["objectives"][0]
            yield f"### {_objective_label(current)}\n\n"
        yield f"#### {_md_line(c['title'])}\n\n*{_md_line(_provenance(c))}*\n\n{md_text(c['body_md'].strip())}\n\n"
    if not any_c:
        yield _("No contributions.") + "\n"


# -- XLSX --------------------------------------------------------------------------
def _width(values) -> float:
    """A column width (in characters) that fits its values, within 8 and 60."""
    longest = max((max((len(line) for line in str(v).split("\n")), default=0) for v in values if v is not None), default=0)
    return float(min(max(longest + 2, 8), 60))


def to_xlsx(compiled, base_url: str = "") -> bytes:
    """One sheet per view. Every sheet has fitted column widths, a frozen header row and an
    autofilter, and runs right to left in Arabic. Counts and objective numbers are numbers,
    dates are date cells, text is text (a string cell is never a formula, whatever it starts
    with: no apostrophe is added, the cell is marked as text instead). Labels are in the
    file's language, with the codes in columns of their own."""
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.styles import Alignment, Font
    from openpyxl.utils import get_column_letter

    meta = compiled.meta
    t = meta["suppression"]["threshold"]
    rtl = text_direction() == "rtl"
    wb = Workbook(write_only=True)
    bold = Font(bold=True)
    top = Alignment(vertical="top", wrap_text=True)

    def cell(ws, value, header=False):
        if isinstance(value, str):
            value = _XML_ILLEGAL.sub("", value)
        c = WriteOnlyCell(ws, value=value)
        if isinstance(value, str):
            c.data_type = "s"  # text: openpyxl would make "=..." a formula
            if _formula_like(value):
                c.quotePrefix = True  # and stays text when someone edits the cell
        elif isinstance(value, date):
            c.number_format = "yyyy-mm-dd"
        if header:
            c.font = bold
        elif isinstance(value, str) and len(value) > 60:
            c.alignment = top
        return c

    def sheet(title, header, rows, widths=None):
        # A sheet's name: at most 31 characters, none of []:*?/\ (whatever the language).
        ws = wb.create_sheet(re.sub(r"[\[\]:*?/\\]", " ", title)[:31].strip())
        if widths is None:
            rows = list(rows)
            widths = [_width([h, *(r[i] for r in rows)]) for i, h in enumerate(header)]
        # Views and columns are written with the first row: set them before it.
        ws.sheet_view.rightToLeft = rtl
        ws.freeze_panes = "A2"
        for i, w in enumerate(widths, start=1):
            ws.column_dimensions[get_column_letter(i)].width = w
        ws.append([cell(ws, h, header=True) for h in header])
        count = 0
        for row in rows:
            ws.append([cell(ws, v) for v in row])
            count += 1
        ws.auto_filter.ref = f"A1:{get_column_letter(len(header))}{count + 1}"

    def n(v):
        return v if hidden_reason(v) is None else shown(v, t)

    sheet(
        _("About"),
        [_("Field"), _("Value")],
        [
            [_("Title"), meta["title"]],
            [_("Status"), status_line(meta)],
            *[[_("Consultation"), inert_html(_consultation_line(c))] for c in meta["consultations"]],
            [_("Privacy"), meta["suppression"]["note"]],
            *[[_("Note"), note] for note in _hidden_notes(meta)],
            [_("Contributions"), n(meta["totals"]["contributions"])],
            [_("Attendance"), n(meta["totals"]["attendance"])],
            *[[_("Warning"), w["message"]] for w in meta["representation"]["warnings"]],
            *([[_("Note"), _("This summary has no contributions yet.")]] if meta["empty"] else []),
        ],
    )
    sheet(
        _("By objective"),
        [_("Objective"), _("Title"), *_labels(CONTRIBUTION_KINDS), _("Total"), *_labels(STAKEHOLDER_CATEGORIES)],
        [
            [r["objective"], objective(r["objective"]).title, *(n(r["kinds"][k]) for k in CONTRIBUTION_KINDS), n(r["total"]),
             *(n(r["categories"][k]) for k in STAKEHOLDER_CATEGORIES)]
            for r in meta["by_objective"]
        ],
    )
    sheet(
        _("Languages"),
        [_("Language code"), _("Language"), _("Contributions")],
        [[r["language"], _language_label(r["language"]), n(r["count"])] for r in meta.get("by_language", [])],
    )
    sheet(
        _("Participation"),
        [_("Measure"), _("Stakeholder category code"), _("Stakeholder category"), _("Governance level code"),
         _("Governance level"), _("Count")],
        [
            [_MEASURES[measure](), r["category"], category_label(r["category"]), r["governance_level"] or "",
             level_label(r["governance_level"]) if r["governance_level"] else "", n(r["count"])]
            for measure in ("contributions", "attendance")
            for r in meta["participation"][measure]
        ],
    )
    rep = meta["representation"]
    sheet(
        _("Representation"),
        [_("Stakeholder category code"), _("Stakeholder category"), _("Contributions"), _("Share of contributions (%)"),
         _("Attendance"), _("Share of attendance (%)")],
        [
            [a["category"], category_label(a["category"]), n(a["count"]), a["percent"] if a["percent"] is not None else "",
             n(b["count"]), b["percent"] if b["percent"] is not None else ""]
            for a, b in zip(rep["contributions"]["shares"], rep["attendance"]["shares"])
        ],
    )
    sheet(
        _("Sections"),
        [_("Section"), _("Question"), _("Objectives"), _("Consultation"), _("Narrative (Markdown)"), _("Pinned contributions"), _("Proposed")],
        [
            [s["label"], s["question"], _objectives_text(s["objectives"]),
             inert_html("; ".join(x["consultation"] for x in s["narratives"])),
             inert_html("\n\n".join(x["text_md"] for x in s["narratives"])),
             inert_html("; ".join(f"#{c['id']} {c['title']}" for c in s["pinned"])), s["proposed_count"]]
            for s in meta["sections"]
        ],
    )
    sheet(
        _("Focus without input"),
        [_("Objective"), _("Title"), _("Consultations")],
        [[f["objective"], objective(f["objective"]).title, "; ".join(str(i) for i in f["consultation_ids"])]
         for f in meta["focus_without_input"]],
    )
    sheet(
        _("Comparison"),
        [_("Objective"), _("Title"), *(inert_html(c["title"]) for c in meta["consultations"])],
        [[r["objective"], objective(r["objective"]).title, *(n(v) for v in r["counts"])] for r in meta["comparison"]["rows"]],
    )
    voices = voice_comparison_table(meta) if len(meta["consultations"]) > 1 else None
    if voices:  # like the Word and Markdown chapter: a compilation of several consultations
        sheet(
            _("Comparison by voice"),
            [_("Objective"), _("Title"), *voices[0][1:]],
            [[r["objective"], objective(r["objective"]).title, *(n(v) for v in r["counts"])]
             for r in meta["voice_comparison"]["rows"] if any(r["counts"])]
            + [[None, _("Total"), *(n(v) for v in meta["voice_comparison"]["totals"])]],
        )

    def annex(contributions):
        for c in contributions:
            row = annex_row(c, base_url)
            objectives = row["objectives"]
            row["objectives"] = objectives[0] if len(objectives) == 1 else _objectives_text(objectives)
            yield [row[k] for k in CSV_COLUMNS]

    widths = [float(_ANNEX_WIDTHS[k]) for k in CSV_COLUMNS]
    sheet(_("Good practices"), CSV_COLUMNS, annex(compiled.good_practices()), widths)
    sheet(_("Contributions"), CSV_COLUMNS, annex(compiled.contributions()), widths)
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


# -- Word ----------------------------------------------------------------------------
# Word's language tags for the file's language (document defaults, styles, core properties).
_WORD_LANGUAGES = {"en": "en-GB", "es": "es-ES", "pt": "pt-PT", "fr": "fr-FR", "ar": "ar-SA"}
_A4 = (210, 297)  # mm
_MARGIN = 20  # mm
_TEXT_WIDTH = _A4[0] - 2 * _MARGIN


# Text set apart by isolate() (FSI ... PDI), as one piece: the user text inside a line.
_ISOLATED = re.compile("(\u2068[^\u2068\u2069]*\u2069)")


def _strong_direction(text: str) -> str | None:
    """"rtl" or "ltr" after the first letter that has a direction (as dir="auto" does),
    skipping isolated text (rule P2 of the bidirectional algorithm)."""
    for ch in _ISOLATED.sub("", text or ""):
        kind = unicodedata.bidirectional(ch)
        if kind == "L":
            return "ltr"
        if kind in ("R", "AL"):
            return "rtl"
    return None


def _word_isolate(text: str) -> str:
    """isolate() in a right-to-left file, where user text sits inside Arabic lines (as
    the PDF's <bdi>); the text as it is otherwise."""
    return isolate(text) if text_direction() == "rtl" else text


def _rtl(paragraph, text: str, default: str = "ltr") -> None:
    """A paragraph runs in the direction of its first letter outside isolated text (the
    file's direction when it has none). Runs holding Arabic (or Hebrew) letters are
    marked right to left; the runs of the words around an isolated piece follow the
    paragraph's own words, and an isolated piece (its own run, FSI ... PDI) is marked
    right to left only when it holds such letters itself: a Spanish name inside an
    Arabic line stays one left-to-right piece in Word as in LibreOffice."""
    from docx.oxml import OxmlElement
    from docx.oxml.ns import qn

    direction = _strong_direction(text) or default
    if direction == "rtl":
        paragraph._p.get_or_add_pPr().append(OxmlElement("w:bidi"))
    elif default == "rtl":  # a left-to-right paragraph in a right-to-left document
        bidi = OxmlElement("w:bidi")
        bidi.set(qn("w:val"), "0")
        paragraph._p.get_or_add_pPr().append(bidi)
    if not _RTL.search(text or ""):
        return
    around = bool(_RTL.search(_ISOLATED.sub("", text or "")))
    for run in paragraph.runs:
        if _ISOLATED.fullmatch(run.text):
            if not _RTL.search(run.text):
                continue
        elif not around:
            continue
        r_pr = run._r.get_or_add_rPr()
        r_pr.append(OxmlElement("w:rtl"))
        fonts = r_pr.find(qn("w:rFonts"))
        if fonts is None:
            fonts = OxmlElement("w:rFonts")
            r_pr.insert(0, fonts)
        fonts.set(qn("w:cs"), "Arial")


def _word_setup(doc, meta: dict) -> None:
    """A4 pages, the file's language and direction, true core properties."""
    from docx.oxml import OxmlElement
    from docx.oxml.ns import qn
    from docx.shared import Mm

    locale = file_locale()
    tag = _WORD_LANGUAGES.get(locale, locale)
    rtl = text_direction() == "rtl"
    for section in doc.sections:
        section.page_width, section.page_height = Mm(_A4[0]), Mm(_A4[1])
        section.left_margin = section.right_margin = section.top_margin = section.bottom_margin = Mm(_MARGIN)
        if rtl:
            section._sectPr.append(OxmlElement("w:bidi"))
    # The language of every run unless it says otherwise (spelling, hyphenation, voices).
    defaults = doc.styles.element.find(qn("w:docDefaults"))
    r_pr = defaults.find(qn("w:rPrDefault")).find(qn("w:rPr"))
    lang = r_pr.find(qn("w:lang"))
    if lang is None:
        lang = OxmlElement("w:lang")
        r_pr.append(lang)
    lang.set(qn("w:val"), tag)
    lang.set(qn("w:bidi"), _WORD_LANGUAGES["ar"] if locale != "ar" else tag)
    props = doc.core_properties
    props.title = xml_safe(meta["title"])[:255]
    props.author = _author()
    props.last_modified_by = props.author
    props.language = tag
    props.subject = _("National review of the Global Compact for Safe, Orderly and Regular Migration (GCM)")
    props.keywords = "GCM; Mesa"
    props.comments = status_line(meta)
    props.revision = meta.get("version") or 1
    created = _document_time(meta)
    props.created = props.modified = created


def _author() -> str:
    """The organisation that runs this Mesa (MESA_ORGANISATION), else "Mesa": the
    documents never name the person who compiled or published them."""
    import os

    from flask import current_app

    return (current_app.config.get("MESA_ORGANISATION") or os.environ.get("MESA_ORGANISATION") or "Mesa")[:255]


def _document_time(meta: dict) -> datetime:
    stamp = meta.get("published_at") or meta.get("generated_at")
    try:
        return datetime.fromisoformat(stamp).replace(tzinfo=None)
    except (TypeError, ValueError):
        return datetime.now()


def _column_widths(header: list, rows: list[list], total: float = _TEXT_WIDTH) -> list[float]:
    """Widths (mm) that fit the content: each column gets room for its longest word and,
    from what is left, a share of its average length, so that a long title does not
    wrap over six lines while a count column stays narrow."""
    columns = list(zip(*([header, *rows]))) if rows or header else []
    char = 1.9  # mm per character at 10 pt, about
    minimum = [max(10.0, min(45.0, max((len(w) for v in col for w in str(v).split()), default=1) * char + 3)) for col in columns]
    want = [max(sum(len(str(v)) for v in col) / len(col), 1) * char + 3 for col in columns]
    want = [max(m, w) for m, w in zip(minimum, want)]
    if sum(want) <= total:
        return [w * total / sum(want) for w in want]
    spare = total - sum(minimum)
    if spare <= 0:
        return [m * total / sum(minimum) for m in minimum]
    extra = [w - m for w, m in zip(want, minimum)]
    return [m + spare * e / (sum(extra) or 1) for m, e in zip(minimum, extra)]


def _word_table_layout(tbl, widths_mm: list[float], rtl: bool) -> None:
    """Fixed column widths, a header row repeated on every page, rows that do not split,
    and (in Arabic) columns running right to left."""
    from docx.oxml import OxmlElement
    from docx.oxml.ns import qn
    from docx.shared import Mm

    tbl.autofit = False
    tbl_pr = tbl._tbl.tblPr
    layout = OxmlElement("w:tblLayout")
    layout.set(qn("w:type"), "fixed")
    tbl_pr.append(layout)
    width = tbl_pr.find(qn("w:tblW"))
    if width is None:
        width = OxmlElement("w:tblW")
        tbl_pr.append(width)
    width.set(qn("w:type"), "dxa")
    width.set(qn("w:w"), str(int(sum(widths_mm) * 56.7)))
    if rtl:
        tbl_pr.append(OxmlElement("w:bidiVisual"))
    for col, w in zip(tbl.columns, widths_mm):
        col.width = Mm(w)
    for i, row in enumerate(tbl.rows):
        tr_pr = row._tr.get_or_add_trPr()
        if i == 0:
            tr_pr.append(OxmlElement("w:tblHeader"))
        tr_pr.append(OxmlElement("w:cantSplit"))
        for cell, w in zip(row.cells, widths_mm):
            cell.width = Mm(w)


def _bookmark(paragraph, name: str, number: int) -> None:
    from docx.oxml import OxmlElement
    from docx.oxml.ns import qn

    start = OxmlElement("w:bookmarkStart")
    start.set(qn("w:id"), str(number))
    start.set(qn("w:name"), name)
    end = OxmlElement("w:bookmarkEnd")
    end.set(qn("w:id"), str(number))
    paragraph._p.insert(1 if paragraph._p.pPr is not None else 0, start)
    paragraph._p.append(end)


def _field(run_parent, instruction: str, cached: str):
    """A field (begin, instruction, separate, cached result, end) appended to a paragraph."""
    from docx.oxml import OxmlElement
    from docx.oxml.ns import qn

    def fld(kind):
        r = OxmlElement("w:r")
        f = OxmlElement("w:fldChar")
        f.set(qn("w:fldCharType"), kind)
        r.append(f)
        return r

    r_instr = OxmlElement("w:r")
    instr = OxmlElement("w:instrText")
    instr.set(qn("xml:space"), "preserve")
    instr.text = instruction
    r_instr.append(instr)
    r_text = OxmlElement("w:r")
    text = OxmlElement("w:t")
    text.text = cached
    r_text.append(text)
    for element in (fld("begin"), r_instr, fld("separate"), r_text, fld("end")):
        run_parent.append(element)
    return text


def _toc(doc, entries: list[tuple[str, str, int]], before) -> list[tuple[str, object]]:
    """The contents: one line per chapter and per question of the questionnaire, each a
    link to its heading followed by a PAGEREF field (the page of the heading's bookmark),
    all inside a Word TOC field. python-docx does not lay the file out, so the fields'
    shown results (the page numbers) are empty here: _contents_page_numbers() fills them
    in from LibreOffice's layout when it is installed; otherwise Word (F9, or printing)
    or LibreOffice (Tools > Update > Update All) fills them in when the fields are
    updated. No "update the fields?" prompt on opening. Returns (bookmark, the w:t of
    the field's shown result) for each line."""
    from docx.oxml import OxmlElement
    from docx.oxml.ns import qn
    from docx.shared import Mm
    from docx.text.paragraph import Paragraph

    paragraphs = []
    numbers = []
    for i, (text, anchor, level) in enumerate(entries):
        element = OxmlElement("w:p")
        before.addprevious(element)
        p = Paragraph(element, doc._body)
        p.paragraph_format.left_indent = Mm(6 * (level - 1))
        p.paragraph_format.tab_stops.add_tab_stop(Mm(_TEXT_WIDTH), alignment=2)  # the page number, right
        link = OxmlElement("w:hyperlink")
        link.set(qn("w:anchor"), anchor)
        run = OxmlElement("w:r")
        t = OxmlElement("w:t")
        t.set(qn("xml:space"), "preserve")
        t.text = xml_safe(text)
        run.append(t)
        tab = OxmlElement("w:r")
        tab.append(OxmlElement("w:tab"))
        link.extend([run, tab])
        p._p.append(link)
        numbers.append((anchor, _field(p._p, f" PAGEREF {anchor} \\h ", "")))
        _rtl(p, text, text_direction())
        paragraphs.append(p)
    if not paragraphs:
        return numbers
    # The TOC field around the lines: Word rebuilds them, with page numbers, on update.
    first, last = paragraphs[0]._p, paragraphs[-1]._p
    begin = OxmlElement("w:r")
    f = OxmlElement("w:fldChar")
    f.set(qn("w:fldCharType"), "begin")
    begin.append(f)
    instr_run = OxmlElement("w:r")
    instr = OxmlElement("w:instrText")
    instr.set(qn("xml:space"), "preserve")
    instr.text = 'TOC \\o "1-2" \\h \\z \\u \\t "Heading 3,3"'
    instr_run.append(instr)
    sep = OxmlElement("w:r")
    f = OxmlElement("w:fldChar")
    f.set(qn("w:fldCharType"), "separate")
    sep.append(f)
    position = 1 if first.pPr is not None else 0
    for offset, element in enumerate((begin, instr_run, sep)):
        first.insert(position + offset, element)
    end = OxmlElement("w:r")
    f = OxmlElement("w:fldChar")
    f.set(qn("w:fldCharType"), "end")
    end.append(f)
    last.append(end)
    return numbers


# -- Word: the contents' page numbers ------------------------------------------------
# python-docx writes the file without laying it out. When LibreOffice is installed, the
# file is laid out once more by LibreOffice (headless, PDF export with the Word bookmarks
# as named destinations): the page of each heading's bookmark is written into the shown
# result of its PAGEREF field, so the contents have their page numbers on opening, in
# Word as in LibreOffice, without updating fields. Only the part up to the last heading
# of the contents (and a few paragraphs after it: "keep with next") is laid out, so the
# annex, however long, costs nothing. The numbers are measured with placeholders of the
# same number of digits in their place (digits have one width), so writing them in
# changes no line break ahead of the headings; a measure that finds a number of another
# length is taken again with that length.
_WORD_PAGES_SECONDS = 120  # MESA_WORD_PAGES_SECONDS: LibreOffice gets this long, then is stopped
_WORD_PAGES_TAIL = 12  # body elements kept after the last heading of the contents
_WORD_PAGES_PASSES = 3
_WORD_PAGES_FILTER = 'pdf:writer_pdf_Export:{"ExportBookmarksToPDFDestination":{"type":"boolean","value":"true"}}'


def _setting(name: str, default):
    import os

    from flask import current_app, has_app_context

    value = current_app.config.get(name) if has_app_context() else None
    if value is None:
        value = os.environ.get(name)
    return default if value is None or value == "" else value


def office() -> str | None:
    """LibreOffice's command (soffice, or libreoffice), when installed and wanted
    (MESA_WORD_PAGE_NUMBERS, on by default)."""
    import shutil

    if str(_setting("MESA_WORD_PAGE_NUMBERS", "1")).lower() in ("0", "false", "no", "off"):
        return None
    return shutil.which("soffice") or shutil.which("libreoffice")


def bookmark_pages(docx: bytes, command: str, timeout: float) -> dict[str, int]:
    """{bookmark: page number, from 1} of a .docx as LibreOffice lays it out: converted
    to PDF headless in a private, throw-away profile, stopped (with its children) after
    ``timeout`` seconds. Raises RuntimeError, OSError or subprocess.TimeoutExpired."""
    import os
    import signal
    import subprocess
    import tempfile
    from pathlib import Path

    from pypdf import PdfReader

    with tempfile.TemporaryDirectory(prefix="mesa-office-") as tmp:
        work = Path(tmp)
        (work / "summary.docx").write_bytes(docx)
        args = [
            command, f"-env:UserInstallation={(work / 'profile').as_uri()}", "--headless", "--invisible",
            "--norestore", "--nolockcheck", "--nologo", "--convert-to", _WORD_PAGES_FILTER,
            "--outdir", str(work / "out"), str(work / "summary.docx"),
        ]
        env = {**os.environ, "HOME": str(work)}  # nothing written outside the temporary directory
        proc = subprocess.Popen(args, cwd=work, env=env, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                stderr=subprocess.STDOUT, start_new_session=True)
        try:
            output, _unused = proc.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)  # soffice starts soffice.bin: stop them all
            proc.communicate()
            raise
        pdf = work / "out" / "summary.pdf"
        if proc.returncode != 0 or not pdf.exists():
            tail = output.decode("utf-8", "replace").strip()[-300:]
            raise RuntimeError(f"exit status {proc.returncode}, no PDF: {tail}")
        reader = PdfReader(pdf)
        return {
            str(name).lstrip("/"): reader.get_destination_page_number(dest) + 1
            for name, dest in reader.named_destinations.items()
        }


def _pdf_name(bookmark: str) -> str:
    """The name LibreOffice (7.4) gives a bookmark's destination: every character but a
    letter or digit written as its UTF-8 bytes in hexadecimal ("q_2k": "q5F2k")."""
    return re.sub(r"[^A-Za-z0-9]", lambda m: m.group().encode().hex().upper(), bookmark)


def _contents_page_numbers(doc, contents: list[tuple[str, object]]) -> bool:
    """Write the page of each contents line's heading into the line's PAGEREF result (see
    above). True when done; False, with the results left empty, when LibreOffice is not
    installed or fails (logged): the download never fails for it."""
    import time

    from docx.oxml.ns import qn

    command = office()
    if not contents or command is None:
        return False
    started = time.monotonic()
    body = doc.element.body
    anchors = {anchor for anchor, _t in contents}
    last = None
    for start in body.iter(qn("w:bookmarkStart")):
        if start.get(qn("w:name")) in anchors:
            last = start
    children = list(body)
    if last is None:
        return False
    while last.getparent() is not body:
        last = last.getparent()
    cut = children.index(last) + 1 + _WORD_PAGES_TAIL
    rest = [element for element in children[cut:] if element.tag != qn("w:sectPr")]
    timeout = float(_setting("MESA_WORD_PAGES_SECONDS", _WORD_PAGES_SECONDS))
    digits = {anchor: 1 for anchor, _t in contents}  # a second layout when a heading is on page 10 or later
    pages = None
    try:
        for _pass in range(_WORD_PAGES_PASSES):
            for anchor, t in contents:
                t.text = "0" * digits[anchor]
            for element in rest:
                body.remove(element)
            try:
                out = io.BytesIO()
                doc.save(out)
            finally:
                section_properties = body.find(qn("w:sectPr"))
                for element in rest:
                    section_properties.addprevious(element)
            remaining = timeout - (time.monotonic() - started)
            if remaining <= 0:
                raise TimeoutError(f"more than {timeout:g} s")
            destinations = bookmark_pages(out.getvalue(), command, remaining)
            found = {anchor: destinations.get(anchor, destinations.get(_pdf_name(anchor))) for anchor in anchors}
            missing = sorted(anchor for anchor, page in found.items() if page is None)
            if missing:
                raise RuntimeError(f"{len(missing)} headings not found in the layout ({', '.join(missing[:3])} ...)")
            if all(len(str(found[anchor])) == digits[anchor] for anchor in anchors):
                pages = found
                break
            digits = {anchor: len(str(found[anchor])) for anchor in anchors}
        if pages is None:
            raise RuntimeError(f"page numbers still moving after {_WORD_PAGES_PASSES} layouts")
    except Exception as exc:  # noqa: BLE001 (whatever goes wrong, the file is delivered)
        for _anchor, t in contents:
            t.text = ""
        log.warning("Word contents without page numbers: LibreOffice failed (%s: %s)", type(exc).__name__, exc)
        return False
    for anchor, t in contents:
        t.text = str(pages[anchor])
    log.info("Word contents: page numbers from LibreOffice in %.1f s", time.monotonic() - started)
    return True


def _chapters(meta: dict) -> list[str]:
    titles = [_("About this summary"), _("Whose voice"), _("Contributions by GCM objective"), _("The review questionnaire")]
    if len(meta["consultations"]) > 1:
        titles.append(_("Consultations compared by objective"))
    titles.append(_("Good practices"))
    chapters = [f"{n}. {title}" for n, title in enumerate(titles, start=1)]
    chapters.append(_("Annex: all contributions"))
    return chapters


def to_docx(compiled, charts: list[Chart] | None = None) -> bytes:
    with gc_paused():
        return _build_docx(compiled, charts)


def _build_docx(compiled, charts: list[Chart] | None) -> bytes:
    from docx import Document
    from docx.enum.text import WD_BREAK
    from docx.shared import Mm, Pt

    meta = compiled.meta
    t = meta["suppression"]["threshold"]
    charts = charts if charts is not None else charts_for(meta)
    direction = text_direction()
    doc = Document()
    _word_setup(doc, meta)
    style = doc.styles["Normal"]
    style.font.name = "Calibri"
    style.font.size = Pt(10.5)

    from docx.oxml import OxmlElement
    from docx.oxml.ns import qn
    from docx.text.paragraph import Paragraph

    body = doc.element.body
    section_properties = body.find(qn("w:sectPr"))
    bookmarks = iter(range(1, 10_000))

    def para(text, style_name=None, bold=False, italic=False):
        # doc.add_paragraph() scans the whole body for its insertion point, which makes
        # a 5,000-contribution annex quadratic: insert before the section properties.
        text = xml_safe(text)
        element = OxmlElement("w:p")
        section_properties.addprevious(element)
        p = Paragraph(element, doc._body)
        if style_name:
            p.style = style_name
        # Isolated user text (FSI ... PDI) in a run of its own, so that it can keep its
        # own direction (_rtl).
        for piece in _ISOLATED.split(text) if "\u2068" in text else [text]:
            if piece:
                run = p.add_run(piece)
                run.bold = bold
                run.italic = italic
        _rtl(p, text, direction)
        return p

    def heading(text, level, anchor=None):
        text = xml_safe(text)
        h = doc.add_heading(text, level)
        _rtl(h, text, direction)
        if anchor:
            _bookmark(h, anchor, next(bookmarks))
        return h

    markers = {f"<{t}": "primary", "×": "complementary"}

    def table(header, rows):
        rows = [[xml_safe(str(v)) for v in row] for row in rows]
        header = [xml_safe(str(h)) for h in header]
        tbl = doc.add_table(rows=1, cols=len(header))
        tbl.style = "Table Grid"
        for cell, h in zip(tbl.rows[0].cells, header):
            cell.text = ""
            cell.paragraphs[0].add_run(h).bold = True
            _rtl(cell.paragraphs[0], h, direction)
        for row in rows:
            cells = tbl.add_row().cells
            for cell, value in zip(cells, row):
                cell.text = value
                _rtl(cell.paragraphs[0], value, direction)
        _word_table_layout(tbl, _column_widths(header, rows), direction == "rtl")
        used = {markers[v] for row in rows for v in row if v in markers}
        for reason, note in _marker_notes(meta).items():
            if reason in used:
                para(note, italic=True)
        doc.add_paragraph()
        return tbl

    def chart(c: Chart):
        doc.add_picture(io.BytesIO(c.png), width=Mm(_TEXT_WIDTH))
        doc.inline_shapes[-1]._inline.docPr.set("descr", xml_safe(c.alt))
        doc.inline_shapes[-1]._inline.docPr.set("title", xml_safe(c.title))
        para(_("Text alternative: %(text)s", text=c.alt), italic=True)

    # Title page
    para(meta["title"], "Title")
    para(status_line(meta), "Subtitle")
    para(_("Compiled by Mesa for the national review of the Global Compact for Safe, Orderly and Regular Migration (GCM)."))
    for c in meta["consultations"]:
        para(_consultation_line(c, _word_isolate), "List Bullet")
    doc.add_paragraph().add_run().add_break(WD_BREAK.PAGE)

    heading(_("Contents"), 1)
    chapters = _chapters(meta)
    entries = [(title, f"ch{i}", 1) for i, title in enumerate(chapters, start=1)]
    questions = [(s["label"], f"q_{s['key']}", 3 if s["is_item"] else 2) for s in meta["sections"]]
    entries[4:4] = questions  # after "4. The review questionnaire"
    contents = _toc(doc, entries, section_properties)
    doc.add_paragraph().add_run().add_break(WD_BREAK.PAGE)

    heading(chapters[0], 1, "ch1")
    para(meta["suppression"]["note"])
    if meta["empty"]:
        para(_("This summary has no contributions yet: the consultations selected received no input."), bold=True)
    totals = meta["totals"]
    table(
        _totals_header(),
        [[shown(totals["contributions"], t), shown(totals["challenge"], t), shown(totals["proposal"], t),
          shown(totals["good_practice"], t), shown(totals["attendance"], t)]],
    )
    if meta.get("by_language"):
        para(_("Contributions by language"), bold=True)
        table([_("Language"), _("Contributions")], [[_language_label(r["language"]), shown(r["count"], t)] for r in meta["by_language"]])

    heading(chapters[1], 1, "ch2")
    for w in meta["representation"]["warnings"]:
        para(_("Warning:") + " " + w["message"], bold=True)
    if not meta["representation"]["warnings"]:
        para(_("No representation warning at the thresholds set for this summary."))
    rep = meta["representation"]
    table([_("Stakeholder category"), _("Contributions"), _("Share"), _("Attendance"), _("Share")], _shares_rows(rep, t))
    chart(charts[1])
    heading(_("Participation by category and governance level"), 2)
    for measure in ("contributions", "attendance"):
        rows = meta["participation"][measure]
        para(_MEASURES[measure](), bold=True)
        if rows:
            table([_("Stakeholder category"), _("Governance level"), _("Count")], _participation_rows(rows, t))
        else:
            para(_("None recorded."))

    heading(chapters[2], 1, "ch3")
    chart(charts[0])
    table(
        [_("GCM objective"), *_labels(CONTRIBUTION_KINDS), _("Total")],
        [[_objective_label(r["objective"]), *(shown(r["kinds"][k], t) for k in CONTRIBUTION_KINDS), shown(r["total"], t)]
         for r in meta["by_objective"] if r["total"] != 0],
    )
    if meta["focus_without_input"]:
        para(_("Objectives in focus that received no input:") + " "
             + ", ".join(_objective_label(f["objective"]) for f in meta["focus_without_input"]))

    heading(chapters[3], 1, "ch4")
    # One heading per question, in the questionnaire's order, so that each answer can be
    # pasted into the review form; the questions without a narrative are named once.
    empty = _empty_sections(meta)
    if empty:
        para(_("No narrative has been written yet for: %(sections)s.", sections=", ".join(empty)), italic=True)
    for s in meta["sections"]:
        heading(s["label"], 2 if not s["is_item"] else 3, f"q_{s['key']}")
        para(s["question"], italic=True)
        for n in s["narratives"]:
            if len(meta["consultations"]) > 1:
                para(n["consultation"], bold=True)
            for block in plain_text(n["text_html"]).split("\n\n"):
                if block.strip():
                    para(block)
        cited = s["pinned"] or s["proposed"]
        if cited:
            para(_("Cited contributions:") if s["pinned"] else _("Related contributions (proposed from the objectives):"), bold=True)
            for c in cited:
                para(f"{_word_isolate(c['title'])} — {_provenance(c, _word_isolate)}", "List Bullet")
            more = s["proposed_count"] - len(s["proposed"]) if not s["pinned"] else 0
            if more > 0:
                para(_("… and %(n)s more in the annex.", n=number(more)), italic=True)

    index = 4
    if len(meta["consultations"]) > 1:
        heading(chapters[index], 1, f"ch{index + 1}")
        index += 1
        table(
            [_("GCM objective"), *(c["title"] for c in meta["consultations"])],
            [[_objective_label(r["objective"]), *(shown(v, t) for v in r["counts"])]
             for r in meta["comparison"]["rows"]],
        )
        voices = voice_comparison_table(meta)
        if voices:
            para(_("Administrations and civil society compared by objective"), bold=True)
            table(voices[0], [[r[0], *(shown(v, t) for v in r[1:])] for r in voices[1]])
    heading(chapters[index], 1, f"ch{index + 1}")
    any_gp = False
    for c in compiled.good_practices():
        any_gp = True
        para(c["title"], bold=True)
        para(_provenance(c, _word_isolate), italic=True)
    if not any_gp:
        para(_("No good practices were contributed."))

    heading(chapters[-1], 1, f"ch{len(chapters)}")
    current = None
    any_c = False
    for c in compiled.contributions():
        any_c = True
        if c["objectives"][0] != current:
            current = c["objectives"][0]
            heading(_objective_label(current), 2)
        para(f"#{c['id']} {c['title']}", bold=True)
        para(_provenance(c, _word_isolate), italic=True)
        body = plain_text(c["body_html"])
        if body:
            para(body)
    if not any_c:
        para(_("No contributions."))
    _contents_page_numbers(doc, contents)
    out = io.BytesIO()
    doc.save(out)
    return out.getvalue()


# -- PDF -----------------------------------------------------------------------------
# WeasyPrint lays out and draws about 1,500 lines a second on one core whatever the
# markup (it works line by line and glyph by glyph in Python), so the annex of a large
# summary is laid out in parallel. The report is cut into parts: the first holds
# everything up to and including the start of the annex, each other part a further run
# of the annex. This process renders the first part while WeasyPrint's command line
# renders each of the others in a fresh Python process (no fork of this one, whatever
# threads it runs), and pypdf joins the PDFs. A part of the annex cannot know its first
# page number before the parts ahead of it are laid out, so it is drawn without page
# numbers and gets them from a "folio" document of blank numbered pages laid over it.
_PDF_PART_LINES = 3_000  # a part smaller than this would not repay starting a process
_PDF_START_LINES = 1_000  # starting a worker (Python, WeasyPrint) costs about this many lines
_PDF_FRONT_LINES = 2_000  # the title page, contents, tables and charts: about a second of layout
_PDF_LINE_CHARS = 90
_PDF_MAX_PROCESSES = 4
_PDF_WORKER_SECONDS = 300  # a worker stuck longer than this fails the download
# The workers run WeasyPrint's command line with the cyclic garbage collector off (see
# _pdf_render) and, like _pdf_html, may load only data: URIs.
_PDF_WORKER = "import gc; gc.disable(); from weasyprint.__main__ import main; main()"
_PDF_WORKER_OPTIONS = ["--allowed-protocols", "data", "--no-http-redirects", "--pdf-tags", "-", "-"]  # stdin to stdout


def _pdf_html(page: str):
    from weasyprint import HTML
    from weasyprint.urls import URLFetcher

    # WeasyPrint may load only the data: URIs we embed (the charts): nothing from the
    # network or the file system, whatever a contribution's text contains.
    return HTML(string=page, url_fetcher=URLFetcher(allowed_protocols={"data"}, allow_redirects=False))


@contextmanager
def gc_paused():
    """Pause the cyclic garbage collector while a large document is built: WeasyPrint and
    python-docx make millions of objects and free nearly all of them by reference
    counting, and collections run again and again over the growing heap add about a
    quarter to the time, for next to no memory."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def _pdf_render(page: str) -> tuple[bytes, int]:
    """The PDF of one document and its number of pages (garbage collector paused)."""
    with gc_paused():
        document = _pdf_html(page).render()
        # Tagged (headings, paragraphs, tables, figures with their text alternative).
        return document.write_pdf(pdf_tags=True), len(document.pages)


def _pdf_in_worker(page: str) -> bytes:
    import subprocess
    import sys

    # -I: isolated (no current directory on sys.path, no PYTHON* variables).
    command = [sys.executable, "-I", "-c", _PDF_WORKER, *_PDF_WORKER_OPTIONS]
    try:
        done = subprocess.run(command, input=page.encode(), capture_output=True, timeout=_PDF_WORKER_SECONDS)
    except subprocess.TimeoutExpired:
        raise RuntimeError(f"WeasyPrint took more than {_PDF_WORKER_SECONDS} s on a part of the report.") from None
    if done.returncode:
        error = done.stderr.decode(errors="replace")[-2000:]
        raise RuntimeError(f"WeasyPrint failed on a part of the report: {error}")
    return done.stdout


def _pdf_lines(title: str, text: str = "") -> int:
    """About how many lines (of layout work) a contribution takes: title, provenance, the
    space between entries, and its text in the annex."""
    return 3 + (len(title) + len(text)) // _PDF_LINE_CHARS


def _pdf_processes() -> int:
    import os

    try:
        cpus = len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        cpus = os.cpu_count() or 1
    return min(cpus, _PDF_MAX_PROCESSES)


def _annex_cuts(annex: list[dict], front_lines: int) -> list[int]:
    """Where each part of the annex after the first begins (none for a small report).

    The parts get about the same number of lines, counting the front matter in the first
    part (rendered by this process) and the start-up in each of the others. A cut moves to
    the start of an objective's group when one is near, so that a part seldom begins with
    a "(continued)" heading."""
    weights = [_pdf_lines(c["title"], c["body_html"] or "") for c in annex]
    total = front_lines + sum(weights)
    parts = max(1, min(_pdf_processes(), total // _PDF_PART_LINES))
    if parts == 1:
        return []
    share = (total + (parts - 1) * _PDF_START_LINES) / parts
    cuts, done, goal = [], front_lines, share
    for i, weight in enumerate(weights):
        if done >= goal and len(cuts) < parts - 1:
            cuts.append(i)
            goal += share - _PDF_START_LINES
        done += weight
    near = len(annex) // (parts * 10)

    def snap(i: int) -> int:
        starts = [
            j for j in range(max(1, i - near), min(len(annex), i + near + 1))
            if annex[j]["objectives"][0] != annex[j - 1]["objectives"][0]
        ]
        return min(starts, key=lambda j: abs(j - i), default=i)

    return sorted({snap(i) for i in cuts if i > 0})


def _pdf_bookmark(item, title: str):
    """The (indirect reference to the) last bookmark called ``title`` under ``item``."""
    found = None
    child = item.get("/First")
    while child is not None:
        if child.get_object().get("/Title") == title:
            found = child
        found = _pdf_bookmark(child.get_object(), title) or found
        child = child.get_object().get("/Next")
    return found


def _join_pdf(first: bytes, parts: list, folio, annex_title: str) -> bytes:
    """One PDF: the first part as WeasyPrint wrote it (contents with links, bookmarks,
    title, language), then the pages of the other parts (pypdf readers), each with its
    page number laid over it from ``folio``, and their bookmarks under the annex's."""
    from pypdf import PdfReader, PdfWriter
    from pypdf.generic import Fit, NameObject

    front = PdfReader(io.BytesIO(first))
    writer = PdfWriter()
    writer.append(front)
    writer.add_metadata(front.metadata)
    writer.root_object[NameObject("/Lang")] = front.trailer["/Root"]["/Lang"]
    annex = _pdf_bookmark(writer.get_outline_root(), annex_title)
    numbers = iter(folio.pages)
    for reader in parts:
        start = len(writer.pages)
        writer.append(reader, import_outline=False)
        for page in writer.pages[start:]:
            page.merge_page(next(numbers))
            page.compress_content_streams()
        # A part's bookmarks are its objectives' headings: a flat list.
        for item in reader.outline:
            writer.add_outline_item(
                title=item.title,
                page_number=start + reader.get_destination_page_number(item),
                parent=annex,
                fit=Fit.xyz(item.left, item.top),
            )
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def to_pdf(compiled, charts: list[Chart] | None = None, base_url: str = "", progress=None) -> bytes:
    """The report as a PDF: in one go, or in parts laid out in parallel (see above).
    ``progress(fraction, stage)``, when given, hears how far the layout got (background jobs)."""
    from flask import render_template

    def report(fraction: float, stage: str) -> None:
        if progress is not None:
            progress(fraction, stage)

    meta = compiled.meta
    charts = charts if charts is not None else charts_for(meta)
    chapters = _chapters(meta)
    good_practices = list(compiled.good_practices())
    annex = list(compiled.contributions())

    def page(**part) -> str:
        return render_template(
            "summaries/report.html",
            meta=meta,
            charts=charts,
            chapters=chapters,
            threshold=meta["suppression"]["threshold"],
            status=status_line(meta),
            provenance=lambda c: _provenance(c, isolate),
            isolate=isolate,
            percent=percent,
            day=day,
            number=number,
            marker_notes=_marker_notes(meta),
            # Plain text (white-space: pre-line keeps its lines): far fewer boxes to lay
            # out than the contribution's HTML.
            plain=plain_text,
            good_practices=good_practices,
            totals_header=_totals_header(),
            base_url=base_url,
            **part,
        )

    cuts = _annex_cuts(annex, _PDF_FRONT_LINES + sum(_pdf_lines(c["title"]) for c in good_practices))
    report(0.25, "layout")
    if not cuts:
        return _pdf_render(page(front=True, annex=annex))[0]

    from concurrent.futures import ThreadPoolExecutor

    from pypdf import PdfReader

    bounds = [0, *cuts, len(annex)]
    rest = [
        page(annex=annex[a:b], continued=annex[a - 1]["objectives"][0] == annex[a]["objectives"][0])
        for a, b in zip(bounds[1:], bounds[2:])
    ]
    with ThreadPoolExecutor(len(rest)) as pool:  # the threads only wait for the workers
        futures = [pool.submit(_pdf_in_worker, html) for html in rest]
        first, first_pages = _pdf_render(page(front=True, annex=annex[: cuts[0]]))
        report(0.25 + 0.6 / (len(futures) + 1), "layout")
        parts = []
        for n, future in enumerate(futures, start=2):
            parts.append(PdfReader(io.BytesIO(future.result())))
            report(0.25 + 0.6 * n / (len(futures) + 1), "layout")
    report(0.9, "joining")
    folio, _folio_pages = _pdf_render(page(folio={"first": first_pages + 1, "pages": sum(len(r.pages) for r in parts)}))
    return _join_pdf(first, parts, PdfReader(io.BytesIO(folio)), chapters[-1])
