from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from .. import permissions
from ..consultations.models import Consultation
from ..extensions import db
from ..http import fail
from . import services
from .forms import ContributionForm, WithdrawForm
from .models import Contribution

bp = Blueprint("contributions", __name__)


def _visible_contribution_or_404(contribution_id: int) -> Contribution:
    contribution = db.session.scalar(
        select(Contribution)
        .where(Contribution.id == contribution_id)
        .options(
            selectinload(Contribution.objectives),
            selectinload(Contribution.principles),
            selectinload(Contribution.answers),
            selectinload(Contribution.answered_by),
        )
    )
    if contribution is None or not permissions.can_view_contribution(current_user, contribution):
        fail(404)
    return contribution


def _fields(form: ContributionForm) -> dict:
    return {
        "kind": form.kind.data,
        "title": form.title.data,
        "body": form.body.data or "",
        "objectives": form.objectives.data or [],
        "principles": form.principles.data or [],
        "answers": (form.answers.data or []) if form.kind.data == "proposal" else [],
        "name_organisation": form.name_organisation.data,
    }


@bp.route("/consultations/<int:consultation_id>/contribute", methods=["GET", "POST"])
@login_required
def create(consultation_id: int):
    consultation = db.get_or_404(Consultation, consultation_id)
    if not permissions.can_view_consultation(current_user, consultation):
        fail(404)
    refusal = permissions.contribution_refusal(current_user, consultation)
    if refusal:
        fail(403, refusal)
    form = ContributionForm(challenge_choices=services.challenge_choices(consultation))
    if request.method == "GET":
        answer = request.args.get("answers", type=int)
        if answer and any(answer == choice.value for choice in form.answers.choices):
            form.kind.data = "proposal"
            form.answers.data = [answer]
    if form.validate_on_submit():
        try:
            contribution = services.submit_contribution(consultation, current_user, **_fields(form))
        except services.ContributionError as exc:
            db.session.rollback()
            getattr(form, exc.field or "title").errors.append(str(exc))
        else:
            db.session.commit()
            flash("Thank you: your contribution is published.", "success")
            return redirect(url_for("contributions.show", contribution_id=contribution.id))
    return render_template(
        "contributions/form.html", form=form, consultation=consultation, contribution=None
    ), (422 if form.errors else 200)


@bp.get("/contributions/<int:contribution_id>")
def show(contribution_id: int):
    contribution = _visible_contribution_or_404(contribution_id)
    from ..roundtables.services import discussed_at

    return render_template(
        "contributions/show.html",
        contribution=contribution,
        consultation=contribution.consultation,
        discussed=discussed_at(contribution) if contribution.kind == "challenge" else [],
        withdraw_form=WithdrawForm(),
    )


@bp.route("/contributions/<int:contribution_id>/edit", methods=["GET", "POST"])
@login_required
def edit(contribution_id: int):
    contribution = _visible_contribution_or_404(contribution_id)
    if not permissions.can_edit_contribution(current_user, contribution):
        fail(403, "Only its author can change a contribution, and only while the consultation is open.")
    consultation = contribution.consultation
    form = ContributionForm(
        challenge_choices=services.challenge_choices(consultation, exclude_id=contribution.id)
    )
    if request.method == "GET":
        form.kind.data = contribution.kind
        form.title.data = contribution.title
        form.body.data = contribution.body_md
        form.objectives.data = contribution.objective_numbers
        form.principles.data = contribution.principle_keys
        form.answers.data = [c.id for c in contribution.answers]
        form.name_organisation.data = contribution.name_organisation
    if form.validate_on_submit():
        try:
            services.update_contribution(contribution, current_user, **_fields(form))
        except services.ContributionError as exc:
            db.session.rollback()
            getattr(form, exc.field or "title").errors.append(str(exc))
        else:
            db.session.commit()
            flash("Your changes are saved.", "success")
            return redirect(url_for("contributions.show", contribution_id=contribution.id))
    return render_template(
        "contributions/form.html", form=form, consultation=consultation, contribution=contribution
    ), (422 if form.errors else 200)


@bp.post("/contributions/<int:contribution_id>/withdraw")
@login_required
def withdraw(contribution_id: int):
    contribution = _visible_contribution_or_404(contribution_id)
    if not WithdrawForm().validate_on_submit():
        fail(400)
    try:
        services.withdraw_contribution(contribution, current_user)
    except services.ContributionError as exc:
        db.session.rollback()
        fail(403, str(exc))
    db.session.commit()
    flash("Your contribution is withdrawn. It no longer appears in lists or summaries.", "success")
    return redirect(url_for("consultations.show", consultation_id=contribution.consultation_id))
