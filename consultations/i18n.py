"""Interface languages: Flask-Babel, the locale of each request, locale-aware formatting.

The locale comes from, in order: a ``?lang=`` argument in the URL (a one-off, not stored),
the person's choice (on the account when logged in, in the session otherwise), the
browser's Accept-Language, and the platform default (English). Unknown codes are ignored.
"""
from __future__ import annotations

import re
from datetime import date, datetime

from babel import dates as babel_dates
from babel import numbers as babel_numbers
from flask import Flask, has_request_context, request, session
from flask_babel import Babel, get_locale, gettext, refresh
from flask_login import current_user

DEFAULT_LOCALE = "en"
# Interface languages, each named in its own language (as the switcher shows them).
INTERFACE_LANGUAGES: dict[str, str] = {
    "en": "English",
    "es": "Español",
    "pt": "Português",
    "fr": "Français",
    "ar": "العربية",
}
RTL_LOCALES = frozenset({"ar"})
SESSION_KEY = "locale"
_CODE = re.compile(r"^[A-Za-z]{2,3}(?:[-_][A-Za-z0-9]{1,8})*$")

babel = Babel()


def normalise(code) -> str | None:
    """'es', 'es-ES', 'ES_es' -> 'es'; anything else (unknown, empty, junk) -> None."""
    if not isinstance(code, str) or len(code) > 35 or not _CODE.match(code.strip()):
        return None
    base = code.strip().replace("_", "-").split("-", 1)[0].lower()
    return base if base in INTERFACE_LANGUAGES else None


def chosen_locale() -> str | None:
    """The person's stored choice: on the account, else in the session."""
    if current_user and current_user.is_authenticated:
        stored = normalise(getattr(current_user, "locale", None))
        if stored:
            return stored
    return normalise(session.get(SESSION_KEY))


def select_locale() -> str:
    if not has_request_context():
        return DEFAULT_LOCALE
    return (
        normalise(request.args.get("lang"))
        or chosen_locale()
        or request.accept_languages.best_match(list(INTERFACE_LANGUAGES))
        or DEFAULT_LOCALE
    )


def current_locale() -> str:
    locale = get_locale()
    return normalise(str(locale)) if locale is not None else DEFAULT_LOCALE


def text_direction(locale: str | None = None) -> str:
    return "rtl" if (locale or current_locale()) in RTL_LOCALES else "ltr"


def remember_choice(code, user=None) -> str:
    """Store the interface language chosen with the switcher: on the account when logged
    in (and in the session, so it stays after logging out), else in the session.
    Raises ValueError for a code that is not an interface language."""
    locale = normalise(code)
    if locale is None or locale != (code or "").strip().lower():
        raise ValueError(gettext("Choose one of the languages offered."))
    session[SESSION_KEY] = locale
    if user is not None and getattr(user, "is_authenticated", False):
        user.locale = locale
    return locale


# -- formatting --------------------------------------------------------------------

def format_day(value, fmt: str | None = None) -> str:
    """A date (or the date of a datetime, as stored: no time-zone shift) for the locale.

    English keeps the platform's '1 February 2024'; other locales use their long form
    ('1 de febrero de 2024'). ``fmt`` (a legacy strftime pattern) is accepted for the
    existing call sites and ignored: the locale decides."""
    if not value:
        return ""
    if isinstance(value, datetime):
        value = value.date()
    if not isinstance(value, date):
        return str(value)
    locale = current_locale()
    if locale == "en":
        return babel_dates.format_date(value, "d MMMM y", locale="en")
    return babel_dates.format_date(value, "long", locale=locale)


def format_clock(value) -> str:
    """Hours and minutes (24 h) of a datetime or time, as stored, in the locale's digits."""
    if not value:
        return ""
    return babel_dates.format_time(value, "HH:mm", locale=current_locale())


def format_count(value) -> str:
    if value is None:
        return ""
    return babel_numbers.format_decimal(value, locale=current_locale())


def init_app(app: Flask) -> None:
    app.config.setdefault("BABEL_DEFAULT_LOCALE", DEFAULT_LOCALE)
    app.config.setdefault("BABEL_TRANSLATION_DIRECTORIES", "translations")
    babel.init_app(app, locale_selector=select_locale)

    @app.before_request
    def _fresh_locale():
        # Flask-Babel caches the locale in ``g``; choose it afresh for every request
        # (an app context can outlive a request, as in the test client).
        refresh()
    app.jinja_env.filters["date"] = format_day
    app.jinja_env.filters["clock"] = format_clock
    app.jinja_env.filters["number"] = format_count
    app.jinja_env.globals.update(
        INTERFACE_LANGUAGES=INTERFACE_LANGUAGES,
        current_locale=current_locale,
        text_direction=text_direction,
    )
