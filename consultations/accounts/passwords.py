"""Password rules: a minimum length and a list of common passwords.

The list is ``consultations/data/common-passwords.txt`` (provenance in
``common-passwords.README.md`` beside it), loaded once and compared lowercased.
"""
from __future__ import annotations

from functools import cache
from pathlib import Path

from flask_babel import gettext

MIN_PASSWORD_LENGTH = 10
MAX_PASSWORD_LENGTH = 200
COMMON_PASSWORDS_FILE = Path(__file__).resolve().parent.parent / "data" / "common-passwords.txt"


@cache
def common_passwords() -> frozenset[str]:
    with COMMON_PASSWORDS_FILE.open(encoding="utf-8") as fh:
        return frozenset(line.rstrip("\n") for line in fh if line.strip())


def password_problem(password: str, *, email: str | None = None) -> str | None:
    """Why ``password`` is not acceptable, or None when it is."""
    password = password or ""
    if len(password) < MIN_PASSWORD_LENGTH:
        return gettext("Use at least %(min)s characters.", min=MIN_PASSWORD_LENGTH)
    if len(password) > MAX_PASSWORD_LENGTH:
        return gettext("Use at most %(max)s characters.", max=MAX_PASSWORD_LENGTH)
    lowered = password.strip().lower()
    if lowered in common_passwords():
        return gettext("This password is one of the most commonly used: choose another one.")
    if email and lowered == email.strip().lower():
        return gettext("Do not use your e-mail address as your password.")
    return None
