"""Small helpers for views: aborts with a user-facing message, safe redirects, and the
request-level guards every route shares (bounded integer ids, no file parts)."""
from __future__ import annotations

import logging
import unicodedata
from urllib.parse import unquote, urlsplit

from flask import Flask, abort, request
from flask_babel import gettext as _
from werkzeug.exceptions import HTTPException
from werkzeug.routing import IntegerConverter

log = logging.getLogger(__name__)

# The largest id every supported database stores in an INTEGER column (PostgreSQL's is
# signed 32-bit; SQLite's is 64-bit). Larger numbers in a URL name nothing.
MAX_ID = 2**31 - 1


def fail(code: int, message: str | None = None):
    """abort(code), carrying a message the error page shows."""
    try:
        abort(code)
    except HTTPException as exc:
        exc.mesa_message = message
        raise


def _unsafe_character(ch: str) -> bool:
    # Control characters (tab, newline...), other invisible formatting and separators:
    # browsers drop or reinterpret some of them, so "/\t/evil.example" becomes "//evil.example".
    return ch == "\\" or (ch != " " and ch.isspace()) or unicodedata.category(ch) in ("Cc", "Cf", "Zl", "Zp")


def safe_next(target: str | None, default: str) -> str:
    """Only follow a ``next`` that stays on this site: a path of this site, with nothing
    that a browser could normalise into another site (control characters, backslashes,
    ``//``, a scheme or a host), whether typed or percent-encoded."""
    if not isinstance(target, str) or not target.startswith("/"):
        return default
    for form in (target, unquote(target)):
        if form.startswith(("//", "/\\")) or any(_unsafe_character(ch) for ch in form):
            return default
        parts = urlsplit(form)
        if parts.scheme or parts.netloc:
            return default
    return target


def page_number(value: str | None) -> int:
    """A page number from the query string; anything odd becomes page 1."""
    try:
        number = int(value or 1)
    except ValueError:
        return 1
    return number if 1 <= number <= 100_000 else 1


def id_argument(value: str | None) -> int | None:
    """An id from the query string or a form: ``None`` unless a whole number that a
    database column can hold (blank, spaced, signed, huge or non-ASCII digits are not)."""
    if not isinstance(value, str):
        return None
    value = value.strip()
    if not (value.isascii() and value.isdigit() and len(value) <= 10):
        return None
    number = int(value)
    return number if 1 <= number <= MAX_ID else None


class BoundedIntegerConverter(IntegerConverter):
    """``<int:...>`` limited to ids a database can hold: a larger number is a 404 like
    any other id that names nothing, instead of an overflow in the database driver."""

    def __init__(self, map, fixed_digits=0, min=None, max=None, signed=False):
        super().__init__(map, fixed_digits, min=min, max=MAX_ID if max is None else max, signed=signed)


def init_app(app: Flask) -> None:
    """Call before the blueprints are registered (their rules take the converter then)."""
    app.url_map.converters["int"] = BoundedIntegerConverter

    @app.before_request
    def _refuse_nul_in_query():
        # No address of Mesa takes a NUL character, and PostgreSQL refuses it in any text.
        if any("\x00" in key or "\x00" in value for key, value in request.args.items(multi=True)):
            fail(400, _("The address contains a character that is not allowed (NUL)."))

    @app.before_request
    def _refuse_file_parts():
        # No form of Mesa takes a file: a file part where a text is expected would reach
        # the validators as a file object. Refuse the whole request, clearly.
        if request.mimetype == "multipart/form-data" and request.files:
            log.info("refused a request with file parts on %s", request.endpoint)
            fail(400, _("This form takes no files. Go back and type the text in the form."))
