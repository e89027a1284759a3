from __future__ import annotations

import hashlib
import hmac

from flask import Blueprint, current_app, flash, jsonify, redirect, render_template, request, url_for
from flask_limiter.util import get_remote_address
from flask_login import current_user, login_required
from sqlalchemy.orm import selectinload

from .. import permissions
from ..consultations.http import visible_or_404
from ..consultations.models import Consultation
from ..extensions import db, limiter
from ..http import fail, id_argument
from ..i18n import current_locale
from . import services
from ..reference import LANGUAGES
from .forms import AnonymousCodeForm, AnonymousContributionForm, AnonymousEditForm, ContributionForm, WithdrawForm
from .models import Contribution
from flask_babel import gettext as _, lazy_gettext as _l

bp = Blueprint("contributions", __name__)


def _visible_contribution_or_404(contribution_id: int) -> Contribution:
    # Not the proposals answering a challenge: there can be thousands (services.answering_page).
    return visible_or_404(
        Contribution,
        contribution_id,
        selectinload(Contribution.objectives),
        selectinload(Contribution.principles),
        selectinload(Contribution.answers),
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


def _searching() -> bool:
    """The form was sent with its "find challenges" button (the picker without JavaScript):
    show it again, everything typed kept, with the matches; save nothing."""
    return request.method == "POST" and "find_challenges" in request.form


def _form_page(form: ContributionForm, consultation: Consultation, contribution: Contribution | None = None):
    exclude_id = contribution.id if contribution else None
    chosen = services.challenges_by_ids(consultation, form.answers.data or [], exclude_id=exclude_id)
    matches, more = [], None
    searched = _searching()
    if searched:
        matches, more = services.find_challenges(
            consultation, form.challenge_q.data, before=id_argument(request.form.get("find_challenges")),
            exclude_id=exclude_id,
        )
    form.set_challenges(chosen, matches)
    picker = {
        "url": url_for("contributions.challenges", consultation_id=consultation.id, exclude=exclude_id),
        "searched": searched,
        "matches": len(matches),
        "more": more,
    }
    return render_template(
        "contributions/form.html", form=form, consultation=consultation, contribution=contribution, picker=picker,
    ), (422 if form.errors else 200)


@bp.route("/consultations/<int:consultation_id>/contribute", methods=["GET", "POST"])
@login_required
def create(consultation_id: int):
    consultation = visible_or_404(Consultation, consultation_id)
    refusal = permissions.contribution_refusal(current_user, consultation)
    if refusal:
        fail(403, refusal)
    form = ContributionForm(language_choices=services.language_choices(consultation))
    if request.method == "GET":
        form.language.data = services.default_language(consultation, current_locale())
        answer = id_argument(request.args.get("answers"))
        if answer and services.challenges_by_ids(consultation, [answer]):
            form.kind.data = "proposal"
            form.answers.data = [answer]
    if not _searching() and form.validate_on_submit():
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


@bp.get("/consultations/<int:consultation_id>/challenges")
def challenges(consultation_id: int):
    """The challenge picker's matches (JSON): open challenges of a consultation the
    visitor may see whose title contains ``q`` (or whose number is ``q``), newest first,
    a page at a time (``before`` is the ``next`` of the previous page)."""
    consultation = visible_or_404(Consultation, consultation_id)
    q = request.args.get("q", "")
    if len(q) > 200:
        return jsonify(error=_("Search with 200 characters at most.")), 400
    cursors = {}
    for name in ("before", "exclude"):
        raw = request.args.get(name, "")
        cursors[name] = id_argument(raw) if raw else None
        if raw and cursors[name] is None:
            return jsonify(error=_("“%(name)s” takes the number of a contribution.", name=name)), 400
    rows, more = services.find_challenges(consultation, q, before=cursors["before"], exclude_id=cursors["exclude"])
    response = jsonify(results=[{"id": i, "title": title} for i, title in rows], next=more)
    response.headers["Cache-Control"] = "private, max-age=30"
    return response


@bp.get("/contributions/<int:contribution_id>")
def show(contribution_id: int):
    contribution = _visible_contribution_or_404(contribution_id)
    from ..roundtables.services import discussed_at

    answering, answering_next = [], None
    if contribution.kind == "challenge":
        answering, answering_next = services.answering_page(contribution, id_argument(request.args.get("after")))
    return render_template(
        "contributions/show.html",
        contribution=contribution,
        answering=answering,
        answering_next=answering_next,
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
    form = ContributionForm(language_choices=services.language_choices(consultation))
    if request.method == "GET":
        form.kind.data = contribution.kind
        form.title.data = contribution.title
        form.body.data = contribution.body_md
        form.objectives.data = contribution.objective_numbers
        form.principles.data = contribution.principle_keys
        form.answers.data = [c.id for c in contribution.answers]
        form.name_organisation.data = contribution.name_organisation
        form.language.data = contribution.language
    if not _searching() and form.validate_on_submit():
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
# None of these requests leaves an access-log line (logprivacy.py, gunicorn.conf.py), and
# after a change the author lands back on the code page, not on /contributions/<id>.

_NO_STORE = {"Cache-Control": "no-store"}


@bp.route("/c/<token>", methods=["GET", "POST"])
def anonymous(token: str):
    """Contribute without an account through the consultation's link. Nothing that
    identifies the person is stored, and no access log records the request."""
    consultation = services.consultation_for_token(token)
    if consultation is None or consultation.is_draft:
        fail(404, _("This link does not work (any more). Ask the organisers for the current one."))
    if not consultation.is_open:
        fail(403, _("This consultation is not open for contributions."))
    form = AnonymousContributionForm(language_choices=services.language_choices(consultation))
    if request.method == "GET":
        form.language.data = services.default_language(consultation, current_locale())
    if form.validate_on_submit():
        fields = _content_fields(form)
        try:
            contribution, code = services.submit_anonymous(
                consultation, category=form.category.data, level=form.level.data or None, **fields,
                submission_key=form.submission_key.data,
            )
        except services.DuplicateSubmission:
            db.session.rollback()
            # The same form again (its first answer was lost): the same code again.
            retry = services.find_anonymous_retry(consultation, form.submission_key.data,
                                                  category=form.category.data, **fields)
            if retry is None:
                return render_template("contributions/anonymous_duplicate.html", consultation=consultation), 200, _NO_STORE
            contribution, code = retry
            return render_template("contributions/anonymous_done.html", contribution=contribution, code=code,
                                   consultation=consultation, again=True), 200, _NO_STORE
        except services.ContributionError as exc:
            db.session.rollback()
            getattr(form, exc.field or "title").errors = [str(exc)]
        else:
            db.session.commit()
            response = render_template("contributions/anonymous_done.html", contribution=contribution, code=code,
                                       consultation=consultation)
            return response, 201, _NO_STORE
    return render_template("contributions/anonymous_form.html", form=form, consultation=consultation), (
        422 if form.errors else 200
    ), _NO_STORE


def _code_address_key() -> str:
    # A keyed hash: the limiter's storage holds no address of an anonymous author.
    secret = str(current_app.config["SECRET_KEY"]).encode()
    digest = hmac.new(secret, get_remote_address().encode(), hashlib.sha256).hexdigest()
    return "code-address:" + digest


def _code_contribution_key() -> str:
    return "code-contribution:" + str((request.view_args or {}).get("contribution_id"))


def _wrong_code(response) -> bool:
    """Only wrong codes count against the limits."""
    return bool(request.environ.get("mesa.wrong_code"))


def _code_limit(name: str):
    return lambda: current_app.config[name]


_TOO_MANY_CODES = _l(
    "Too many wrong codes were tried for this contribution or from your network, so this page is "
    "paused for a while. Wait and try again with the code you received when you submitted."
)


def _typed_language(value) -> list[tuple[str, str]]:
    """A wrong code shows no choice of the contribution's consultation: only what was typed."""
    return [(value, _(LANGUAGES[value]))] if value in LANGUAGES else []


@bp.route("/contributions/<int:contribution_id>/code", methods=["GET", "POST"])
@limiter.limit(_code_limit("MESA_LIMIT_CODE_CONTRIBUTION"), key_func=_code_contribution_key, methods=["POST"],
               deduct_when=_wrong_code, error_message=_TOO_MANY_CODES)
@limiter.limit(_code_limit("MESA_LIMIT_CODE_ADDRESS"), key_func=_code_address_key, methods=["POST"],
               deduct_when=_wrong_code, error_message=_TOO_MANY_CODES)
def anonymous_edit(contribution_id: int):
    """Change or withdraw an anonymous contribution with its secret code. Before the right
    code, the page is the same for every number (whether a contribution exists, is
    anonymous, hidden, withdrawn or pending, or belongs to a draft consultation)."""
    contribution = db.session.get(Contribution, contribution_id)
    if contribution is not None and not (
        contribution.anonymous and permissions.can_view_consultation(current_user, contribution.consultation)
    ):
        contribution = None
    if request.method == "GET" or request.form.get("step") == "code":
        form = AnonymousCodeForm()
        if request.method == "POST" and form.validate_on_submit():
            if services.code_matches(contribution, form.code.data):
                return _unlocked(contribution, form.code.data)
            request.environ["mesa.wrong_code"] = True
            form.code.errors = [_("This code does not match this contribution.")]
        return render_template("contributions/anonymous_edit.html", form=form, contribution_id=contribution_id), (
            422 if form.errors else 200
        ), _NO_STORE
    code = (request.form.get("code") or "").strip()
    matches = services.code_matches(contribution, code)
    form = AnonymousEditForm(language_choices=services.language_choices(contribution.consultation) if matches
                             else _typed_language(request.form.get("language")))
    valid = form.validate_on_submit()
    if not matches:
        request.environ["mesa.wrong_code"] = True
        form.code.errors = [_("This code does not match this contribution.")] if code else form.code.errors
    elif valid:
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
            else:
                flash(_("Your changes are saved."), "success")
            return redirect(url_for("contributions.anonymous_edit", contribution_id=contribution_id))
    return render_template("contributions/anonymous_edit.html", form=form, contribution_id=contribution_id,
                           contribution=contribution if matches else None, editing=True), (
        422 if form.errors else 200
    ), _NO_STORE


def _unlocked(contribution: Contribution, code: str):
    """The right code: what the contribution says, and what its author may still do."""
    form = AnonymousEditForm(formdata=None, language_choices=services.language_choices(contribution.consultation))
    form.code.data = code
    form.category.data = contribution.stakeholder_category
    form.level.data = contribution.governance_level or ""
    form.kind.data = contribution.kind
    form.title.data = contribution.title
    form.body.data = contribution.body_md
    form.objectives.data = contribution.objective_numbers
    form.principles.data = contribution.principle_keys
    form.language.data = contribution.language
    changeable = contribution.consultation.is_open and contribution.status in ("active", "pending")
    return render_template("contributions/anonymous_edit.html", form=form, contribution_id=contribution.id,
                           contribution=contribution, editing=changeable, unlocked=True), 200, _NO_STORE
