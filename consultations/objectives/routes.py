from __future__ import annotations

from flask import Blueprint, render_template, request

from ..contributions.forms import ContributionFilterForm
from ..http import fail, id_argument
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
    values.pop("objective", None)
    # Pages are turned by keyset (?after= / ?before= a contribution number): an odd one is
    # ignored, and the first page shown.
    before = id_argument(request.args.get("before"))
    after = None if before else id_argument(request.args.get("after"))
    page = services.objective_page(number, after=after, before=before, **values)
    return render_template("objectives/show.html", objective=objective, filters=filters, page=page)
