from __future__ import annotations

from flask import Blueprint, render_template, request
from flask_babel import gettext as _
from flask_login import current_user, login_required

from ..accounts.services import find_by_email
from ..extensions import db
from ..forms import choices
from ..http import fail, page_number
from ..permissions import is_admin
from . import services
from .forms import AuditFilterForm

bp = Blueprint("audit", __name__, url_prefix="/admin/audit")

PER_PAGE = 50


def _actor_id(form: AuditFilterForm) -> int | None:
    """The account number the actor filter names (None: no filter); errors go on the field."""
    value = form.actor.data
    if not value:
        return None
    if value.lstrip("#").isdigit():
        return int(value.lstrip("#"))
    user = find_by_email(value)
    if user is None:
        form.actor.errors.append(_("No account has this e-mail address. Give its number if it was deleted."))
        return None
    return user.id


@bp.get("/")
@login_required
def index():
    if not is_admin(current_user):
        fail(403)
    form = AuditFilterForm(request.args)
    form.action.choices = choices(
        [("", "— any action —"), *((a, services.action_label(a)) for a in services.known_actions())]
    )
    filters = {}
    if form.validate():
        actor_id = _actor_id(form)
        if not form.actor.errors:
            filters = dict(
                action=form.action.data or None,
                actor_id=actor_id,
                date_from=form.date_from.data,
                date_to=form.date_to.data,
            )
    pagination = db.paginate(
        services.search_events(**filters),
        page=page_number(request.args.get("page")),
        per_page=PER_PAGE,
        error_out=False,
    )
    return render_template(
        "audit/index.html",
        form=form,
        pagination=pagination,
        action_label=services.action_label,
        filtered=bool(filters and any(v is not None for v in filters.values())),
    )
