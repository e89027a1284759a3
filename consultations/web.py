"""Request-level wiring: login, security headers, error pages, template helpers."""
from __future__ import annotations

import logging
import time
from urllib.parse import urlencode

from flask import Flask, current_app, render_template, request, session
from flask_babel import lazy_gettext as _l
from flask_wtf.csrf import CSRFError
from sqlalchemy import select
from werkzeug.exceptions import HTTPException

from . import i18n, permissions, reference
from .database import kept_form_values
from .extensions import db, login_manager
from .logprivacy import AnonymousRouteLogFilter, RedactAnonymousRoutes
from .markdown import stored_html
from .accounts.models import ROLE_LABELS
from .consultations.models import STATE_LABELS
from .roundtables.models import MODES

CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "font-src 'self'; object-src 'none'; base-uri 'self'; form-action 'self'; "
    "frame-ancestors 'none'"
)

ERROR_TEXT = {
    400: (_l("Bad request"), _l("The request could not be understood. Go back and try again.")),
    403: (_l("Not allowed"), _l("You do not have permission to do this.")),
    404: (_l("Not found"), _l("There is nothing at this address, or you may not see it.")),
    405: (_l("Method not allowed"), _l("This address does not accept that kind of request.")),
    413: (
        _l("Too large"),
        _l("What you sent is larger than this platform accepts. Shorten the text and try again."),
    ),
    429: (
        _l("Too many attempts"),
        _l(
            "There have been too many attempts from your network or for this account, so this "
            "form is paused for a few minutes to protect accounts from password guessing. "
            "Wait a few minutes and try again. If you forgot your password, you can reset it "
            "from the log-in page."
        ),
    ),
    500: (_l("Something went wrong"), _l("An unexpected error happened. Nothing was saved; try again.")),
}


@login_manager.user_loader
def load_user(session_id: str):
    from .accounts.models import User

    user_id, _, token = (session_id or "").partition(":")
    if not user_id.isdigit() or not token:
        return None
    # The cookie is renewed at every request (an idle timeout); a session also ends
    # MESA_SESSION_MAX_SECONDS after the log-in, however active.
    login_at = session.get("login_at")
    if not isinstance(login_at, int) or time.time() - login_at > current_app.config["MESA_SESSION_MAX_SECONDS"]:
        return None
    user = db.session.scalar(select(User).where(User.id == int(user_id)))
    if user is None or user.session_token != token:
        return None
    return user


def _url_with(**changes) -> str:
    """The current URL with some query arguments replaced (None removes one)."""
    args = request.args.to_dict(flat=False)
    for key, value in changes.items():
        if value is None:
            args.pop(key, None)
        else:
            args[key] = [str(value)]
    query = urlencode(args, doseq=True)
    return request.path + ("?" + query if query else "")


def init_app(app: Flask) -> None:
    werkzeug_log = logging.getLogger("werkzeug")
    if not any(isinstance(f, AnonymousRouteLogFilter) for f in werkzeug_log.filters):
        werkzeug_log.addFilter(AnonymousRouteLogFilter())
    # Flask logs an unhandled exception with the request path: not the anonymous ones.
    if not any(isinstance(f, RedactAnonymousRoutes) for f in app.logger.filters):
        app.logger.addFilter(RedactAnonymousRoutes())

    login_manager.login_view = "accounts.login"
    login_manager.login_message = _l("Log in to continue.")
    login_manager.login_message_category = "info"

    @app.after_request
    def _security_headers(response):
        headers = response.headers
        headers.setdefault("Content-Security-Policy", CSP)
        headers.setdefault("X-Content-Type-Options", "nosniff")
        headers.setdefault("X-Frame-Options", "DENY")
        headers.setdefault("Referrer-Policy", "same-origin")
        headers.setdefault("Permissions-Policy", "camera=(), microphone=(), geolocation=()")
        if app.config.get("SESSION_COOKIE_SECURE"):
            headers.setdefault("Strict-Transport-Security", "max-age=31536000")
        return response

    def _error_page(code: int, description: str | None = None):
        title, text = ERROR_TEXT.get(code, (_l("Error"), _l("The request could not be completed.")))
        return render_template("errors/error.html", code=code, title=title, text=description or text), code

    @app.errorhandler(HTTPException)
    def _http_error(exc: HTTPException):
        if exc.code is None or exc.code < 400:
            return exc
        # Our own aborts may carry a specific, user-facing description.
        description = getattr(exc, "mesa_message", None)
        # A throttled form that says why in its own words (Flask-Limiter's error_message).
        if description is None and exc.code == 429 and getattr(getattr(exc, "limit", None), "error_message", None):
            description = exc.description
        return _error_page(exc.code, description)

    @app.errorhandler(CSRFError)
    def _csrf_error(exc: CSRFError):
        # Keep what the person typed so nothing is lost: show it back to copy (no password,
        # nor its repetition).
        return render_template("errors/csrf.html", kept=kept_form_values()), 400

    @app.errorhandler(500)
    def _server_error(exc):
        db.session.rollback()
        return _error_page(500)

    app.jinja_env.filters["html"] = stored_html
    app.jinja_env.globals.update(
        objectives=reference.objectives,
        CONSULTATION_KINDS=reference.TranslatedLabels(reference.CONSULTATION_KINDS),
        CONTRIBUTION_KINDS=reference.TranslatedLabels(reference.CONTRIBUTION_KINDS),
        LANGUAGES=reference.TranslatedLabels(reference.LANGUAGES),
        MODES=reference.TranslatedLabels(MODES),
        objective=reference.objective,
        principles_by_key=reference.principles_by_key,
        category_label=reference.category_label,
        level_label=reference.level_label,
        voice_label=reference.voice_label,
        STAKEHOLDER_CATEGORIES=reference.TranslatedLabels(reference.STAKEHOLDER_CATEGORIES),
        url_with=_url_with,
        state_labels_i18n=reference.TranslatedLabels(STATE_LABELS),
        role_label=lambda role: reference.TranslatedLabels(ROLE_LABELS).get(role, role),
        **permissions.template_predicates(),
    )

    # Locale-aware dates (``|date``, ``|clock``, ``|number``): see i18n.py.
    i18n.init_app(app)
