from __future__ import annotations

from functools import partial

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required

from ..accounts.models import User
from ..audit.services import record as record_audit
from ..contributions.forms import ContributionFilterForm
from ..contributions.services import browse
from ..extensions import db
from ..http import fail, page_number
from ..organisations.services import all_organisations_choices
from ..permissions import can_create_consultation
from . import services
from .forms import ConsultationForm, ConsultationListForm, OrganiserForm, TransitionForm
from .http import managed_or_403, visible_or_404
from .models import STATE_LABELS, Consultation, IllegalTransition
from flask_babel import gettext as _

bp = Blueprint("consultations", __name__, url_prefix="/consultations")


def _form_fields(form: ConsultationForm) -> dict:
    return {
        "title": form.title.data,
        "kind": form.kind.data,
        "description": form.description.data or "",
        "territory": form.territory.data or "",
        "language": form.language.data,
        "accepted_languages": form.accepted_languages.data or [],
        "opens_on": form.opens_on.data,
        "closes_on": form.closes_on.data,
        "focus": form.focus.data or [],
        "eligibility": form.eligibility.data,
        "invited": services.invited_organisations(form.invited.data if form.eligibility.data == "invited" else []),
    }


def _form_page(form: ConsultationForm, consultation: Consultation | None, save, saved_message: str):
    """Save a valid form with ``save(**fields)`` and go to the consultation, or show the form
    again with the errors (a ConsultationError goes on the field it names)."""
    if form.validate_on_submit():
        try:
            saved = save(**_form_fields(form))
        except services.ConsultationError as exc:
            db.session.rollback()
            getattr(form, exc.field or "title").errors.append(str(exc))
        else:
            db.session.commit()
            flash(saved_message, "success")
            return redirect(url_for("consultations.show", consultation_id=(consultation or saved).id))
    return render_template("consultations/form.html", form=form, consultation=consultation), (
        422 if form.errors else 200
    )


@bp.get("/")
def index():
    form = ConsultationListForm(request.args)
    valid = form.validate()
    stmt = services.public_consultations(
        state=form.state.data if valid else None,
        kind=form.kind.data if valid else None,
        q=form.q.data if valid else None,
    )
    pagination = db.paginate(stmt, page=page_number(request.args.get("page")), per_page=20, error_out=False)
    return render_template("consultations/index.html", pagination=pagination, form=form)


@bp.route("/new", methods=["GET", "POST"])
@login_required
def create():
    if not can_create_consultation(current_user):
        fail(403, _("Only organisers can create consultations. Ask an administrator for the organiser role."))
    form = ConsultationForm(organisation_choices=all_organisations_choices())
    return _form_page(
        form, None, partial(services.create_consultation, current_user),
        _("Consultation created as a draft. Only its organisers see it until you open it."),
    )


@bp.route("/<int:consultation_id>/edit", methods=["GET", "POST"])
@login_required
def edit(consultation_id: int):
    consultation = managed_or_403(Consultation, consultation_id)
    form = ConsultationForm(organisation_choices=all_organisations_choices())
    if request.method == "GET":
        form.title.data = consultation.title
        form.kind.data = consultation.kind
        form.description.data = consultation.description_md
        form.territory.data = consultation.territory
        form.language.data = consultation.language
        form.accepted_languages.data = consultation.accepted_language_codes
        form.opens_on.data = consultation.opens_on
        form.closes_on.data = consultation.closes_on
        form.focus.data = consultation.focus_numbers
        form.eligibility.data = consultation.eligibility
        form.invited.data = [o.id for o in consultation.invited_organisations]
    return _form_page(form, consultation, partial(services.update_consultation, consultation), _("Changes saved."))


@bp.get("/<int:consultation_id>")
def show(consultation_id: int):
    consultation = visible_or_404(Consultation, consultation_id)
    filters = ContributionFilterForm(request.args)
    values = filters.values()
    pagination = db.paginate(
        browse(consultation=consultation, **values),
        page=page_number(request.args.get("page")),
        per_page=20,
        error_out=False,
    )
    from ..roundtables.services import roundtables_of

    upcoming, past = roundtables_of(consultation)
    return render_template(
        "consultations/show.html",
        consultation=consultation,
        upcoming_roundtables=upcoming,
        past_roundtables=past,
        filters=filters,
        filtered=bool(values),
        pagination=pagination,
        transition_form=TransitionForm(),
        state_labels=STATE_LABELS,
    )


@bp.post("/<int:consultation_id>/state/<target>")
@login_required
def transition(consultation_id: int, target: str):
    consultation = managed_or_403(Consultation, consultation_id)
    form = TransitionForm()
    if not form.validate_on_submit():
        fail(400)
    try:
        services.change_state(consultation, target)
    except IllegalTransition as exc:
        db.session.rollback()
        flash(str(exc), "error")
    else:
        record_audit(current_user, "consultation.state_changed", target=consultation, state=target)
        db.session.commit()
        flash(_("The consultation is now %(state)s.", state=_(STATE_LABELS[target]).lower()), "success")
    return redirect(url_for("consultations.show", consultation_id=consultation.id))


@bp.route("/<int:consultation_id>/organisers", methods=["GET", "POST"])
@login_required
def organisers(consultation_id: int):
    consultation = managed_or_403(Consultation, consultation_id)
    form = OrganiserForm()
    if form.validate_on_submit():
        try:
            user = services.add_organiser(consultation, form.email.data)
        except services.ConsultationError as exc:
            db.session.rollback()
            form.email.errors.append(str(exc))
        else:
            db.session.commit()
            flash(_("%(name)s now organises this consultation.", name=user.display_name), "success")
            return redirect(url_for("consultations.organisers", consultation_id=consultation.id))
    return render_template(
        "consultations/organisers.html",
        consultation=consultation,
        form=form,
        remove_form=TransitionForm(),
    ), (422 if form.errors else 200)


@bp.post("/<int:consultation_id>/organisers/<int:user_id>/remove")
@login_required
def remove_organiser(consultation_id: int, user_id: int):
    consultation = managed_or_403(Consultation, consultation_id)
    if not TransitionForm().validate_on_submit():
        fail(400)
    user = db.get_or_404(User, user_id)
    if not consultation.is_organiser(user):
        fail(404)
    try:
        services.remove_organiser(consultation, user)
    except services.ConsultationError as exc:
        db.session.rollback()
        flash(str(exc), "error")
    else:
        db.session.commit()
        flash(_("%(name)s no longer organises this consultation.", name=user.display_name), "success")
    return redirect(url_for("consultations.organisers", consultation_id=consultation.id))
