from __future__ import annotations

from flask import Blueprint, render_template, request

from ..contributions.forms import ContributionFilterForm
from ..contributions.services import browse
from ..extensions import db
from ..http import fail, page_number
from ..reference import objective as get_objective
from . import services

bp = Blueprint("objectives", __name__, url_prefix="/objectives")


@bp.get("/")
def index():
    return render_template("objectives/index.html", counts=services.contribution_counts())


@bp.get("/<int:number>")
def show(number: int):
    objective = get_objective(number)
    if objective is None:
        fail(404)
    filters = ContributionFilterForm(request.args)
    values = filters.values()
    values["objective"] = number
    pagination = db.paginate(
        browse(**values), page=page_number(request.args.get("page")), per_page=20, error_out=False
    )
    return render_template(
        "objectives/show.html", objective=objective, filters=filters, pagination=pagination
    )
