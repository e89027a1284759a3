from __future__ import annotations

from flask import Blueprint, current_app, flash, redirect, render_template
from flask_babel import gettext as _
from flask_login import current_user

from .. import health, i18n
from ..consultations import services as consultation_services
from ..extensions import db
from ..forms import LanguageForm
from ..http import safe_next
from ..permissions import can_create_consultation

bp = Blueprint("main", __name__)


@bp.get("/")
def home():
    mine = (
        consultation_services.organised_by(current_user, limit=10)
        if can_create_consultation(current_user)
        else []
    )
    return render_template(
        "main/home.html",
        open_consultations=consultation_services.open_consultations(),
        recent_consultations=consultation_services.recent_consultations(),
        mine=mine,
    )


@bp.get("/about")
def about():
    return render_template("main/about.html")


@bp.get("/privacy")
def privacy():
    return render_template("main/privacy.html")


@bp.post("/language")
def set_language():
    """The language switcher (every page): remember the choice, go back where one was."""
    form = LanguageForm()
    back = safe_next(form.next.data, "/")
    if form.validate_on_submit():
        i18n.remember_choice(form.locale.data, current_user)
        db.session.commit()
    else:
        flash(_("Choose one of the languages offered."), "error")
    return redirect(back)


@bp.get("/healthz")
def healthz():
    """Database and rate-limit store status as JSON, within a second: 503 when the
    database is unusable, 200 with "degraded" when only the rate-limit store is down."""
    body, status = health.report(current_app._get_current_object())
    return body, status, {"Cache-Control": "no-store"}
