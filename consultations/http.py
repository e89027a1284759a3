"""Small helpers for views: aborts with a user-facing message."""
from __future__ import annotations

from flask import abort
from werkzeug.exceptions import HTTPException


def fail(code: int, message: str | None = None):
    """abort(code), carrying a message the error page shows."""
    try:
        abort(code)
    except HTTPException as exc:
        exc.mesa_message = message
        raise



def safe_next(target: str | None, default: str) -> str:
    """Only follow a ``next`` that stays on this site."""
    if target and target.startswith("/") and not target.startswith("//") and "\\" not in target:
        return target
    return default


def page_number(value: str | None) -> int:
    """A page number from the query string; anything odd becomes page 1."""
    try:
        number = int(value or 1)
    except ValueError:
        return 1
    return number if 1 <= number <= 100_000 else 1
