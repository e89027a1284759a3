"""Markdown rendered once, at write time, and sanitised with an nh3 allowlist.

Python-Markdown is quadratic on some inputs (deeply nested brackets), so every text
that goes through here is capped in length by its form *before* rendering, and the
HTML is stored next to the source: pages never render Markdown on read.
"""
from __future__ import annotations

import re
from html import escape

import markdown as _markdown
import nh3
from markupsafe import Markup

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
_LT_PLACEHOLDER = "\ue000"


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


def _defuse(text: str) -> str:
    if text.count("<") > _GUARD_THRESHOLD:
        text = _RAW_HTML_OPENER.sub(_LT_PLACEHOLDER, text.replace(_LT_PLACEHOLDER, ""))
    if text.count("[") <= _GUARD_THRESHOLD:
        return text
    escape = _unlinkable_brackets(text)
    if not escape:
        return text
    out, last = [], 0
    for i in sorted(escape):
        out.append(text[last:i])
        out.append("\\")
        last = i
    out.append(text[last:])
    return "".join(out)


def render_markdown(text: str | None) -> str:
    """Return sanitised HTML for ``text`` (a plain ``str``, ready to store)."""
    if not text:
        return ""
    if len(text) > MAX_MARKDOWN_LENGTH:
        raise ValueError(f"Markdown longer than {MAX_MARKDOWN_LENGTH} characters")
    try:
        html = _markdown.markdown(_defuse(text), extensions=["tables", "sane_lists"], output_format="html")
        html = html.replace(_LT_PLACEHOLDER, "&lt;")
    except RecursionError:
        # Thousands of nested list or quote markers: keep the text, shown as plain text.
        html = "".join(
            f"<p>{escape(part)}</p>" for part in text.split("\n\n") if part.strip()
        )
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
