from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required

from .. import permissions
from ..consultations.http import managed_or_403, visible_or_404
from ..consultations.models import Consultation
from ..contributions import services as contribution_services
from ..contributions.models import Contribution
from ..extensions import db
from ..http import fail, page_number
from ..audit.services import record
from . import services
from .forms import ActionForm, FlagForm, HideForm
from flask_babel import gettext as _

bp = Blueprint("moderation", __name__)


def _moderated(model, object_id: int):
    """The contribution or consultation to moderate: 404 if the current user may not see it,
    403 if they may not moderate it."""
    return managed_or_403(model, object_id, may=permissions.can_moderate)


def _back(contribution: Contribution):
    return redirect(url_for("moderation.queue", consultation_id=contribution.consultation_id))


@bp.route("/contributions/<int:contribution_id>/flag", methods=["GET", "POST"])
def flag(contribution_id: int):
    contribution = visible_or_404(Contribution, contribution_id)
    form = FlagForm()
    if form.validate_on_submit():
        try:
            services.flag(contribution, form.reason.data, reporter=current_user)
        except services.ModerationError as exc:
            db.session.rollback()
            form.reason.errors = [str(exc)]
        else:
            db.session.commit()
            flash(_("Thank you: the organisers will look at your report."), "success")
            return redirect(url_for("contributions.show", contribution_id=contribution.id))
    return render_template("moderation/flag.html", contribution=contribution, form=form), (422 if form.errors else 200)


@bp.get("/consultations/<int:consultation_id>/moderation")
@login_required
def queue(consultation_id: int):
    consultation = _moderated(Consultation, consultation_id)
    pagination = db.paginate(
        services.queue(consultation), page=page_number(request.args.get("page")), per_page=20, error_out=False
    )
    reasons = services.open_reasons(c.id for c in pagination.items)
    return render_template(
        "moderation/queue.html", consultation=consultation, pagination=pagination, reasons=reasons,
        hide_form=HideForm(), action_form=ActionForm(),
    )


@bp.post("/contributions/<int:contribution_id>/hide")
@login_required
def hide(contribution_id: int):
    contribution = _moderated(Contribution, contribution_id)
    form = HideForm()
    if not form.validate_on_submit():
        for errors in form.errors.values():
            for error in errors:
                flash(error, "error")
        return _back(contribution), 303
    try:
        services.hide(contribution, current_user, form.reason.data)
    except services.ModerationError as exc:
        db.session.rollback()
        flash(str(exc), "error")
    else:
        db.session.commit()
        flash(_("The contribution is hidden; its author sees your reason."), "success")
    return _back(contribution)


def _simple(contribution_id: int, action, message: str):
    contribution = _moderated(Contribution, contribution_id)
    if not ActionForm().validate_on_submit():
        fail(400)
    try:
        action(contribution, current_user)
    except services.ModerationError as exc:
        db.session.rollback()
        flash(str(exc), "error")
    else:
        db.session.commit()
        flash(message, "success")
    return _back(contribution)


@bp.post("/contributions/<int:contribution_id>/restore")
@login_required
def restore(contribution_id: int):
    return _simple(contribution_id, services.restore, _("The contribution is visible again."))


@bp.post("/contributions/<int:contribution_id>/approve")
@login_required
def approve(contribution_id: int):
    return _simple(contribution_id, services.approve, _("The contribution is published."))


@bp.post("/contributions/<int:contribution_id>/dismiss-reports")
@login_required
def dismiss(contribution_id: int):
    return _simple(contribution_id, services.dismiss_flags, _("The reports are dismissed."))


@bp.post("/consultations/<int:consultation_id>/premoderation/<any(on, off):state>")
@login_required
def premoderation(consultation_id: int, state: str):
    consultation = _moderated(Consultation, consultation_id)
    if not ActionForm().validate_on_submit():
        fail(400)
    services.set_premoderation(consultation, state == "on", current_user)
    db.session.commit()
    flash(_("New contributions now wait for approval.") if state == "on" else _("New contributions are published at once."),
          "success")
    return redirect(url_for("moderation.queue", consultation_id=consultation.id))


@bp.post("/consultations/<int:consultation_id>/anonymous-link/<any(open, revoke):action>")
@login_required
def anonymous_link(consultation_id: int, action: str):
    consultation = _moderated(Consultation, consultation_id)
    if not ActionForm().validate_on_submit():
        fail(400)
    if action == "open":
        contribution_services.open_anonymous_link(consultation)
        record(current_user, "consultation.anonymous_link_opened", target=consultation)
        flash(_("The link for contributing without an account is ready. Any earlier link no longer works."), "success")
    else:
        contribution_services.revoke_anonymous_link(consultation)
        record(current_user, "consultation.anonymous_link_revoked", target=consultation)
        flash(_("The link no longer works."), "success")
    db.session.commit()
    return redirect(url_for("moderation.queue", consultation_id=consultation.id))
