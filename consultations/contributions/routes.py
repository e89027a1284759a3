from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required
from sqlalchemy.orm import selectinload

from .. import permissions
from ..consultations.http import visible_or_404
from ..consultations.models import Consultation
from ..extensions import db
from ..http import fail
from ..i18n import current_locale
from . import services
from .forms import AnonymousContributionForm, AnonymousEditForm, ContributionForm, WithdrawForm
from .models import Contribution
from flask_babel import gettext as _

bp = Blueprint("contributions", __name__)


def _visible_contribution_or_404(contribution_id: int) -> Contribution:
    return visible_or_404(
        Contribution,
        contribution_id,
        selectinload(Contribution.objectives),
        selectinload(Contribution.principles),
        selectinload(Contribution.answers),
        selectinload(Contribution.answered_by),
    )


def _content_fields(form) -> dict:
    """What every contribution form says, with or without an account."""
    return {
        "kind": form.kind.data,
        "title": form.title.data,
        "body": form.body.data or "",
        "objectives": form.objectives.data or [],
        "principles": form.principles.data or [],
        "language": form.language.data,
    }


def _fields(form: ContributionForm) -> dict:
    return {
        **_content_fields(form),
        "answers": (form.answers.data or []) if form.kind.data == "proposal" else [],
        "name_organisation": form.name_organisation.data,
    }


def _on_behalf_fields(form: ContributionForm) -> dict:
    if not (form.on_behalf.data and permissions.can_submit_on_behalf(current_user)):
        return {}
    return {
        "on_behalf": True,
        "on_behalf_note": form.on_behalf_note.data or "",
        "on_behalf_category": form.on_behalf_category.data,
    }


def _to_contribution(contribution: Contribution):
    return redirect(url_for("contributions.show", contribution_id=contribution.id))


def _form_page(form: ContributionForm, consultation: Consultation, contribution: Contribution | None = None):
    return render_template(
        "contributions/form.html", form=form, consultation=consultation, contribution=contribution
    ), (422 if form.errors else 200)


@bp.route("/consultations/<int:consultation_id>/contribute", methods=["GET", "POST"])
@login_required
def create(consultation_id: int):
    consultation = visible_or_404(Consultation, consultation_id)
    refusal = permissions.contribution_refusal(current_user, consultation)
    if refusal:
        fail(403, refusal)
    form = ContributionForm(
        challenge_choices=services.challenge_choices(consultation),
        language_choices=services.language_choices(consultation),
    )
    if request.method == "GET":
        form.language.data = services.default_language(consultation, current_locale())
        answer = request.args.get("answers", type=int)
        if answer and any(answer == choice.value for choice in form.answers.choices):
            form.kind.data = "proposal"
            form.answers.data = [answer]
    if form.validate_on_submit():
        try:
            contribution = services.submit_contribution(
                consultation, current_user, **_fields(form), **_on_behalf_fields(form),
                submission_key=form.submission_key.data,
            )
        except services.DuplicateSubmission as duplicate:
            db.session.rollback()
            flash(_("We had already received this contribution."), "info")
            return _to_contribution(duplicate.contribution)
        except services.ContributionError as exc:
            db.session.rollback()
            getattr(form, exc.field or "title").errors.append(str(exc))
        else:
            db.session.commit()
            if contribution.status == "pending":
                flash(_("Thank you: your contribution will be published once an organiser approves it."), "success")
            else:
                flash(_("Thank you: your contribution is published."), "success")
            return _to_contribution(contribution)
    return _form_page(form, consultation)


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
        fail(403, _("Only its author can change a contribution, and only while the consultation is open."))
    consultation = contribution.consultation
    form = ContributionForm(
        challenge_choices=services.challenge_choices(consultation, exclude_id=contribution.id),
        language_choices=services.language_choices(consultation),
    )
    if request.method == "GET":
        form.kind.data = contribution.kind
        form.title.data = contribution.title
        form.body.data = contribution.body_md
        form.objectives.data = contribution.objective_numbers
        form.principles.data = contribution.principle_keys
        form.answers.data = [c.id for c in contribution.answers]
        form.name_organisation.data = contribution.name_organisation
        form.language.data = contribution.language
    if form.validate_on_submit():
        try:
            services.update_contribution(contribution, current_user, **_fields(form))
        except services.ContributionError as exc:
            db.session.rollback()
            getattr(form, exc.field or "title").errors.append(str(exc))
        else:
            db.session.commit()
            flash(_("Your changes are saved."), "success")
            return _to_contribution(contribution)
    return _form_page(form, consultation, contribution)


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
    flash(_("Your contribution is withdrawn. It no longer appears in lists or summaries."), "success")
    return redirect(url_for("consultations.show", consultation_id=contribution.consultation_id))


# -- without an account -------------------------------------------------------------

@bp.route("/c/<token>", methods=["GET", "POST"])
def anonymous(token: str):
    """Contribute without an account through the consultation's link. Nothing that
    identifies the person is stored, and the access log omits the address here."""
    consultation = services.consultation_for_token(token)
    if consultation is None or consultation.is_draft:
        fail(404, _("This link does not work (any more). Ask the organisers for the current one."))
    if not consultation.is_open:
        fail(403, _("This consultation is not open for contributions."))
    form = AnonymousContributionForm(language_choices=services.language_choices(consultation))
    if request.method == "GET":
        form.language.data = services.default_language(consultation, current_locale())
    if form.validate_on_submit():
        try:
            contribution, code = services.submit_anonymous(
                consultation, category=form.category.data, level=form.level.data or None, **_content_fields(form),
                submission_key=form.submission_key.data,
            )
        except services.DuplicateSubmission:
            db.session.rollback()
            return render_template("contributions/anonymous_duplicate.html", consultation=consultation), 200
        except services.ContributionError as exc:
            db.session.rollback()
            getattr(form, exc.field or "title").errors = [str(exc)]
        else:
            db.session.commit()
            response = render_template("contributions/anonymous_done.html", contribution=contribution, code=code,
                                       consultation=consultation)
            return response, 201, {"Cache-Control": "no-store"}
    return render_template("contributions/anonymous_form.html", form=form, consultation=consultation), (
        422 if form.errors else 200
    )


@bp.route("/contributions/<int:contribution_id>/code", methods=["GET", "POST"])
def anonymous_edit(contribution_id: int):
    contribution = db.get_or_404(Contribution, contribution_id)
    if not contribution.anonymous or not permissions.can_view_consultation(current_user, contribution.consultation):
        fail(404)
    form = AnonymousEditForm(language_choices=services.language_choices(contribution.consultation))
    if request.method == "GET":
        form.category.data = contribution.stakeholder_category
        form.level.data = contribution.governance_level or ""
        form.kind.data = contribution.kind
        form.title.data = contribution.title
        form.body.data = contribution.body_md
        form.objectives.data = contribution.objective_numbers
        form.principles.data = contribution.principle_keys
        form.language.data = contribution.language
    if form.validate_on_submit():
        try:
            if form.action.data == "withdraw":
                services.withdraw_anonymous(contribution, form.code.data)
            else:
                services.update_anonymous(contribution, form.code.data, **_content_fields(form))
        except services.ContributionError as exc:
            db.session.rollback()
            getattr(form, exc.field or "code").errors = [str(exc)]
        else:
            db.session.commit()
            if form.action.data == "withdraw":
                flash(_("Your contribution is withdrawn."), "success")
                return redirect(url_for("consultations.show", consultation_id=contribution.consultation_id))
            flash(_("Your changes are saved."), "success")
            return _to_contribution(contribution)
    return render_template("contributions/anonymous_edit.html", form=form, contribution=contribution), (
        422 if form.errors else 200
    )
