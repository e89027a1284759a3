from __future__ import annotations

from flask import Blueprint, render_template, request
from wtforms import SelectField
from flask_wtf import FlaskForm
from wtforms.validators import Optional

from ..extensions import db
from flask_babel import lazy_gettext as _l

from ..forms import choices, translated
from ..http import page_number
from ..reference import STAKEHOLDER_CATEGORIES
from . import services
from .models import Organisation

bp = Blueprint("organisations", __name__, url_prefix="/organisations")


class OrganisationFilterForm(FlaskForm):
    class Meta:
        csrf = False

    category = SelectField(
        "Stakeholder category",
        choices=choices([("", _l("All categories")), *translated(STAKEHOLDER_CATEGORIES)]),
        validators=[Optional()],
    )


@bp.get("/")
def index():
    form = OrganisationFilterForm(request.args)
    category = form.category.data if form.validate() else None
    pagination = db.paginate(
        services.list_organisations(category or None),
        page=page_number(request.args.get("page")),
        per_page=50,
        error_out=False,
    )
    return render_template("organisations/index.html", pagination=pagination, form=form)


@bp.get("/<int:organisation_id>")
def show(organisation_id: int):
    organisation = db.get_or_404(Organisation, organisation_id)
    return render_template("organisations/show.html", organisation=organisation)
