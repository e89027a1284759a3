from __future__ import annotations

from flask import Blueprint, render_template
from flask_login import current_user

from ..consultations import services as consultation_services
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


@bp.get("/healthz")
def healthz():
    return {"status": "ok"}
