"""Markdown rendered once, at write time, and sanitised with an nh3 allowlist.

Python-Markdown is quadratic on some inputs (deeply nested brackets), so every text
that goes through here is capped in length by its form *before* rendering, and the
HTML is stored next to the source: pages never render Markdown on read.
"""
from __future__ import annotations

import logging
import re
from html import escape

import markdown as _markdown
import nh3
from markdown.extensions import Extension
from markupsafe import Markup

log = logging.getLogger(__name__)

MAX_MARKDOWN_LENGTH = 20_000

ALLOWED_TAGS = {
    "p", "br", "hr", "strong", "em", "b", "i", "code", "pre", "blockquote",
    "ul", "ol", "li", "a", "h2", "h3", "h4", "h5", "h6",
    "table", "thead", "tbody", "tr", "th", "td",
}
ALLOWED_ATTRIBUTES = {
    "a": {"href", "title"},
    "th": {"align"},
    "td": {"align"},
}
ALLOWED_URL_SCHEMES = {"http", "https", "mailto"}


# Python-Markdown is quadratic on some inputs: its link parser scans forward from every
# "[" (and from the "(" after a "]") to the end of the text when nothing closes it, and
# its inline-HTML pattern does the same from every "<". Texts with many of these
# characters are defused first: brackets that cannot form a link, or nest deeper than
# links ever do, are escaped, and "<" (other than an autolink) is hidden from the parser
# behind a placeholder that becomes "&lt;" afterwards. They render as the same visible
# characters. Texts with few of them are left untouched.
_GUARD_THRESHOLD = 32
_MAX_LINK_NESTING = 3
_RAW_HTML_OPENER = re.compile(r"<(?!(?:https?|mailto):[^<>\s]*>)")


def _unlinkable_brackets(text: str) -> set[int]:
    """Positions of "[", "]" that can form no link, in one linear pass."""
    escape: set[int] = set()
    square: list[int] = []
    round_: list[int] = []
    opener_of: dict[int, int] = {}  # "]" position -> its "[" position
    after_bracket: list[int] = []  # "(" right after a "]"
    closed_round: set[int] = set()
    i, n = 0, len(text)
    while i < n:
        ch = text[i]
        if ch == "\\":
            i += 2  # an escaped character is plain text
            continue
        if ch == "[":
            square.append(i)
        elif ch == "]":
            if square:
                opened = square.pop()
                opener_of[i] = opened
                if len(square) >= _MAX_LINK_NESTING:
                    escape.update((opened, i))
            else:
                escape.add(i)
        elif ch == "(":
            round_.append(i)
            if i and text[i - 1] == "]" and (i - 1) in opener_of:
                after_bracket.append(i)
        elif ch == ")" and round_:
            closed_round.add(round_.pop())
        i += 1
    escape.update(square)  # never closed
    for i in after_bracket:
        if i not in closed_round:
            escape.update((i - 1, opener_of[i - 1]))
    return escape


# Characters hidden from the parser behind private-use placeholders, restored after
# rendering: the parser treats them as plain text, in linear time.
_PLACEHOLDERS = {ch: chr(0xE000 + i) for i, ch in enumerate("<[]\\`*_{}()#+-.!>")}
_RESTORE = {ph: ("&lt;" if ch == "<" else "&gt;" if ch == ">" else ch) for ch, ph in _PLACEHOLDERS.items()}
_ESCAPED = re.compile(r"\\([\\`*_{}\[\]()#+\-.!<>])")
_LT_PLACEHOLDER = _PLACEHOLDERS["<"]


def _defuse(text: str) -> str:
    if any(ph in text for ph in _RESTORE):
        text = "".join(ch for ch in text if ch not in _RESTORE)
    if text.count("\\") > _GUARD_THRESHOLD:
        # Backslash escapes are costly by the thousand: keep what they mean, a literal character.
        text = _ESCAPED.sub(lambda m: _PLACEHOLDERS[m.group(1)], text)
    if text.count("<") > _GUARD_THRESHOLD:
        text = _RAW_HTML_OPENER.sub(_LT_PLACEHOLDER, text)
    if text.count("[") <= _GUARD_THRESHOLD:
        return text
    escape = _unlinkable_brackets(text)
    if not escape:
        return text
    chars = list(text)
    for i in escape:
        chars[i] = _PLACEHOLDERS[chars[i]]
    return "".join(chars)


def _restore(html: str) -> str:
    if not any(ph in html for ph in _RESTORE):
        return html
    return "".join(_RESTORE.get(ch, ch) for ch in html)


# Deeply nested lists or quotes make Python-Markdown recurse once per level: beyond
# this depth the text is shown as plain paragraphs instead (nothing is lost).
_MAX_BLOCK_NESTING = 16
_MAX_TABLE_ROWS = 500
_DEEP_NESTING = re.compile(
    r"^(?:[ \t]*(?:>|[-*+][ \t]|\d{1,9}[.)][ \t])[ \t]*){%d,}" % _MAX_BLOCK_NESTING, re.MULTILINE
)


class EscapeRawHtml(Extension):
    """Raw HTML typed in a text is shown as text, never interpreted.

    Without it Python-Markdown passes raw HTML through, and the sanitiser then drops
    ``<script>``, ``<style>``... with their content, or an unclosed ``<textarea>``,
    ``<noscript>``, ``<xmp>`` swallows the rest of the text: what a person typed vanished
    from the page and from the Word and PDF documents. With the HTML parsers removed, the
    serializer escapes every ``<`` (the recipe of Python-Markdown's release notes for the
    removed ``safe_mode="escape"``); autolinks (``<https://...>``) still work, and nh3 stays
    the final allowlist.
    """

    def extendMarkdown(self, md):
        md.preprocessors.deregister("html_block")
        md.inlinePatterns.deregister("html")


def _plain_paragraphs(text: str) -> str:
    return "".join(f"<p>{escape(part)}</p>" for part in text.split("\n\n") if part.strip())


def render_markdown(text: str | None) -> str:
    """Return sanitised HTML for ``text`` (a plain ``str``, ready to store)."""
    if not text:
        return ""
    if len(text) > MAX_MARKDOWN_LENGTH:
        raise ValueError(f"Markdown longer than {MAX_MARKDOWN_LENGTH} characters")
    if _DEEP_NESTING.search(text):
        html = _plain_paragraphs(text)
    else:
        try:
            # The tables extension is slow on thousands of table-like lines: such texts
            # are rendered without it (the lines stay readable as text).
            many_rows = text.count("\n|") > _MAX_TABLE_ROWS
            extensions = [EscapeRawHtml(), "sane_lists"] if many_rows else [EscapeRawHtml(), "tables", "sane_lists"]
            html = _markdown.markdown(_defuse(text), extensions=extensions, output_format="html")
            html = _restore(html)
        except RecursionError:  # nesting the pattern above did not catch: keep the text
            html = _plain_paragraphs(text)
    return nh3.clean(
        html,
        tags=ALLOWED_TAGS,
        attributes=ALLOWED_ATTRIBUTES,
        url_schemes=ALLOWED_URL_SCHEMES,
        link_rel="noopener noreferrer nofollow ugc",
        strip_comments=True,
    )


def stored_html(html: str | None) -> Markup:
    """Mark HTML that :func:`render_markdown` produced at write time as safe for templates."""
    return Markup(html or "")


def _stored_markdown():
    """Every (model, source column, HTML column) that keeps HTML rendered at write time."""
    from .consultations.models import Consultation
    from .contributions.models import Contribution
    from .roundtables.models import Roundtable
    from .summaries.models import SummarySection

    return [
        (Consultation, "description_md", "description_html"),
        (Contribution, "body_md", "body_html"),
        (Roundtable, "agenda_md", "agenda_html"),
        (Roundtable, "minutes_md", "minutes_html"),
        (SummarySection, "text_md", "text_html"),
    ]


def rerender_stored(batch: int = 500) -> dict[str, int]:
    """Render every stored Markdown source again with today's renderer, and store the HTML
    where it changed (``flask rerender-markdown``): HTML written by an older renderer (one
    that dropped raw HTML with the text after it, say) is replaced. Times of last change
    are kept: the text did not change. Published summary versions are left as published.
    Returns the number of rows changed per column."""
    from sqlalchemy import inspect, select, tuple_, update

    from .extensions import db

    changed: dict[str, int] = {}
    for model, source, target in _stored_markdown():
        keys = list(inspect(model).primary_key)
        # SET updated_at = updated_at: an onupdate default would otherwise say "edited now".
        keep = {c.name: c for c in model.__table__.columns if c.onupdate is not None}
        count, last = 0, None
        while True:
            stmt = select(*keys, getattr(model, source), getattr(model, target)).order_by(*keys).limit(batch)
            if last is not None:
                stmt = stmt.where(tuple_(*keys) > tuple_(*last))
            rows = db.session.execute(stmt).all()
            if not rows:
                break
            for row in rows:
                *key, text, html = row
                try:
                    fresh = render_markdown(text or "")
                except ValueError:  # longer than the cap (never accepted by a form): keep it
                    log.warning("%s %s: source longer than the cap, left as stored", model.__tablename__, key)
                    continue
                if fresh != (html or ""):
                    where = [column == value for column, value in zip(keys, key)]
                    db.session.execute(update(model).where(*where).values({target: fresh, **keep}))
                    count += 1
            last = tuple(rows[-1][: len(keys)])
            db.session.commit()
        changed[f"{model.__tablename__}.{target}"] = count
    return changed
