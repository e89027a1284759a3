from __future__ import annotations

from datetime import datetime

from flask import Blueprint, Response, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required
from sqlalchemy import select

from .. import permissions
from ..consultations.http import managed_or_403, visible_or_404
from ..consultations.models import Consultation
from ..contributions.models import Contribution
from ..contributions.services import ContributionError, clean_language, language_choices
from ..extensions import db
from ..reference import category_label
from ..forms import choices
from ..http import fail, id_argument, page_number
from ..organisations.services import all_organisations_choices
from . import ics, services
from .forms import (
    ActionForm,
    AddressedForm,
    AttendanceForm,
    CaptureForm,
    CarryForwardForm,
    MemberForm,
    MinutesForm,
    RegistrationForm,
    RoundtableForm,
)
from .models import CouncilMember, Registration, Roundtable
from flask_babel import gettext as _, ngettext

bp = Blueprint("roundtables", __name__)


# -- shared by the views ----------------------------------------------------------

def _checked_action() -> None:
    if not ActionForm().validate_on_submit():
        fail(400)


def _to_roundtable(roundtable: Roundtable):
    return redirect(url_for("roundtables.show", roundtable_id=roundtable.id))


def _refused(roundtable: Roundtable, *errors: str):
    """Back to the roundtable's page with ``errors`` flashed, as 303 (see the page again)."""
    for error in errors:
        flash(error, "error")
    return _to_roundtable(roundtable), 303


# -- roundtables ------------------------------------------------------------------

def _fields(form: RoundtableForm, facilitators) -> dict:
    closes = None
    if form.registration_closes_on.data and form.registration_closes_at.data:
        closes = datetime.combine(form.registration_closes_on.data, form.registration_closes_at.data)
    return {
        "title": form.title.data,
        "day": form.day.data,
        "start": form.start.data,
        "end": form.end.data,
        "tz": form.timezone.data,
        "mode": form.mode.data,
        "place": form.place.data or "",
        "meeting_link": form.meeting_link.data or "",
        "agenda": form.agenda.data or "",
        "capacity": form.capacity.data,
        "registration_closes": closes,
        "focus": form.focus.data or [],
        "facilitators": facilitators,
    }


def _save_roundtable(form: RoundtableForm, consultation: Consultation, roundtable: Roundtable | None):
    """Validate and save; returns the roundtable, or None with errors put on the form."""
    facilitators, unknown = services.users_by_emails(form.facilitator_emails())
    if unknown:
        form.facilitators.errors = [_("No account has the e-mail %(emails)s.", emails=", ".join(unknown))]
        return None
    fields = _fields(form, facilitators)
    starts = services.to_utc(fields["day"], fields["start"], fields["tz"])
    ends = services.to_utc(fields["day"], fields["end"], fields["tz"])
    clashes = services.overlapping(consultation, fields["place"], starts, ends, exclude_id=roundtable.id if roundtable else None)
    if clashes and not form.confirm_overlap.data:
        names = ", ".join(f"“{c.title}”" for c in clashes)
        form.place.errors = [_("%(names)s uses this room at an overlapping time. Tick the box below to save anyway.", names=names)]
        form.overlap_found = True  # the template then shows the "save anyway" box
        return None
    try:
        if roundtable is None:
            roundtable = services.create_roundtable(consultation, **fields)
        else:
            services.update_roundtable(roundtable, **fields)
    except services.RoundtableError as exc:
        db.session.rollback()
        getattr(form, exc.field or "title").errors = [str(exc)]
        return None
    return roundtable


@bp.route("/consultations/<int:consultation_id>/roundtables/new", methods=["GET", "POST"])
@login_required
def create(consultation_id: int):
    consultation = managed_or_403(Consultation, consultation_id)
    form = RoundtableForm()
    if request.method == "GET":
        form.focus.data = consultation.focus_numbers
    if form.validate_on_submit():
        roundtable = _save_roundtable(form, consultation, None)
        if roundtable is not None:
            db.session.commit()
            flash(_("Roundtable added."), "success")
            return _to_roundtable(roundtable)
    return render_template(
        "roundtables/form.html", form=form, consultation=consultation, roundtable=None,
        overlap=getattr(form, "overlap_found", False),
    ), (422 if form.errors else 200)


@bp.route("/roundtables/<int:roundtable_id>/edit", methods=["GET", "POST"])
@login_required
def edit(roundtable_id: int):
    roundtable = managed_or_403(Roundtable, roundtable_id)
    form = RoundtableForm()
    if request.method == "GET":
        start, end = roundtable.local_start, roundtable.local_end
        form.title.data = roundtable.title
        form.day.data, form.start.data, form.end.data = start.date(), start.time(), end.time()
        form.timezone.data = roundtable.timezone
        form.mode.data = roundtable.mode
        form.place.data, form.meeting_link.data = roundtable.place, roundtable.meeting_link
        form.agenda.data = roundtable.agenda_md
        form.capacity.data = roundtable.capacity
        closes = roundtable.local_registration_closes
        if closes:
            form.registration_closes_on.data, form.registration_closes_at.data = closes.date(), closes.time()
        form.focus.data = roundtable.focus_numbers
        form.facilitators.data = "\n".join(f.email for f in roundtable.facilitators)
    if form.validate_on_submit():
        if _save_roundtable(form, roundtable.consultation, roundtable) is not None:
            db.session.commit()
            flash(_("Roundtable saved."), "success")
            return _to_roundtable(roundtable)
    return render_template(
        "roundtables/form.html", form=form, consultation=roundtable.consultation, roundtable=roundtable,
        overlap=getattr(form, "overlap_found", False),
    ), (422 if form.errors else 200)


@bp.get("/roundtables/<int:roundtable_id>")
def show(roundtable_id: int):
    roundtable = visible_or_404(Roundtable, roundtable_id)
    consultation = roundtable.consultation
    manager = permissions.can_manage_consultation(current_user, consultation)
    mine = []
    if current_user.is_authenticated:
        mine = list(db.session.scalars(services.registrations_of(roundtable, registrant=current_user)))
    previous = services.previous_roundtable(roundtable)
    # Both lists a page at a time (keyset: "after" the last id shown), whatever their size.
    raised, raised_next = services.raised_page(roundtable, id_argument(request.args.get("after")))
    carried, carried_next = services.carried_forward_to(
        roundtable, id_argument(request.args.get("carried_after")), per_page=services.RAISED_PAGE
    )
    return render_template(
        "roundtables/show.html",
        roundtable=roundtable,
        consultation=consultation,
        manager=manager,
        registration_form=RegistrationForm(),
        refusal=services.registration_refusal(current_user, roundtable),
        mine=mine,
        counts=services.registration_counts(roundtable),
        names=services.public_names(roundtable),
        attendance=services.attendance([roundtable.id]),
        raised=raised,
        raised_next=raised_next,
        carried=carried,
        carried_next=carried_next,
        previous=previous,
        can_download_ics=manager or bool(mine),
        action_form=ActionForm(),
    )


# -- registration ----------------------------------------------------------------

@bp.post("/roundtables/<int:roundtable_id>/register")
@login_required
def register(roundtable_id: int):
    roundtable = visible_or_404(Roundtable, roundtable_id)
    form = RegistrationForm()
    if not form.validate_on_submit():
        return _refused(roundtable, *(error for errors in form.errors.values() for error in errors))
    try:
        registration = services.register(
            roundtable, current_user, name=form.name.data or "", show_name=form.show_name.data
        )
    except services.RoundtableError as exc:
        db.session.rollback()
        return _refused(roundtable, str(exc))
    db.session.commit()
    who = registration.name or _("You")
    if registration.status == "confirmed":
        flash(_("%(who)s: registered. You can download the calendar file below.", who=who), "success")
    else:
        flash(_("%(who)s: the roundtable is full, so this registration is on the waiting list. "
                "It moves up automatically when a seat frees up.", who=who), "info")
    return _to_roundtable(roundtable)


@bp.post("/registrations/<int:registration_id>/cancel")
@login_required
def cancel(registration_id: int):
    registration = db.get_or_404(Registration, registration_id)
    roundtable = visible_or_404(Roundtable, registration.roundtable_id)
    if not permissions.can_cancel_registration(current_user, registration):
        fail(403)
    _checked_action()
    try:
        promoted = services.cancel_registration(registration)
    except services.RoundtableError as exc:
        db.session.rollback()
        flash(str(exc), "error")
    else:
        db.session.commit()
        flash(_("Registration cancelled.") + (" " + _("The first person on the waiting list now has the seat.") if promoted else ""), "success")
    return _to_roundtable(roundtable)


@bp.get("/roundtables/<int:roundtable_id>/registrations")
@login_required
def registrations(roundtable_id: int):
    roundtable = managed_or_403(Roundtable, roundtable_id)
    pagination = db.paginate(
        services.registrations_of(roundtable), page=page_number(request.args.get("page")), per_page=50, error_out=False
    )
    return render_template("roundtables/registrations.html", roundtable=roundtable, pagination=pagination,
                           action_form=ActionForm())


@bp.get("/roundtables/<int:roundtable_id>/calendar.ics")
@login_required
def roundtable_ics(roundtable_id: int):
    roundtable = visible_or_404(Roundtable, roundtable_id)
    if not (permissions.can_manage_consultation(current_user, roundtable.consultation)
            or services.has_active_registration(current_user, roundtable)):
        fail(403, _("The calendar file is for people registered for this roundtable."))
    body = ics.roundtable_calendar(roundtable, url_for("roundtables.show", roundtable_id=roundtable.id, _external=True))
    return Response(body, mimetype="text/calendar",
                    headers={"Content-Disposition": f'attachment; filename="roundtable-{roundtable.id}.ics"'})


@bp.get("/consultations/<int:consultation_id>/roundtables.ics")
@login_required
def consultation_ics(consultation_id: int):
    consultation = managed_or_403(Consultation, consultation_id)
    upcoming, past = services.roundtables_of(consultation)
    items = [(r, url_for("roundtables.show", roundtable_id=r.id, _external=True)) for r in [*reversed(past), *upcoming]]
    body = ics.consultation_calendar(consultation.title, items)
    return Response(body, mimetype="text/calendar",
                    headers={"Content-Disposition": f'attachment; filename="consultation-{consultation.id}-roundtables.ics"'})


# -- attendance, minutes --------------------------------------------------------------

@bp.route("/roundtables/<int:roundtable_id>/attendance", methods=["GET", "POST"])
@login_required
def attendance(roundtable_id: int):
    roundtable = managed_or_403(Roundtable, roundtable_id)
    confirmed = list(db.session.scalars(
        select(Registration).where(Registration.roundtable_id == roundtable.id, Registration.status == "confirmed")
        .order_by(Registration.created_at, Registration.id)
    ))
    form = AttendanceForm()
    form.attended.choices = choices(
        (r.id, f"{r.name or (r.registered_by.display_name if r.registered_by else _('Registered person'))} — "
               f"{category_label(r.stakeholder_category)}") for r in confirmed
    )
    if request.method == "GET":
        form.attended.data = [r.id for r in confirmed if r.attended]
        for entry, walk_in in zip(form.walk_ins.entries, roundtable.walk_ins):
            entry.category.data, entry.level.data, entry.count.data = (
                walk_in.stakeholder_category, walk_in.governance_level or "", walk_in.count)
        while len(form.walk_ins.entries) < len(roundtable.walk_ins):
            form.walk_ins.append_entry({"category": roundtable.walk_ins[len(form.walk_ins.entries)].stakeholder_category})
    if form.validate_on_submit():
        rows, row_errors = [], False
        for entry in form.walk_ins.entries:
            if entry.form.is_blank():
                continue
            if not entry.form.category.data:
                entry.form.category.errors = [_("Choose a stakeholder category.")]
                row_errors = True
            if not entry.form.count.data:
                entry.form.count.errors = [*entry.form.count.errors, _("Give the number of people.")]
                row_errors = True
            rows.append((entry.form.category.data, entry.form.level.data or None, entry.form.count.data))
        if not row_errors:
            try:
                services.record_attendance(roundtable, form.attended.data or [], rows)
            except services.RoundtableError as exc:
                db.session.rollback()
                flash(str(exc), "error")
            else:
                db.session.commit()
                flash(_("Attendance saved."), "success")
                return _to_roundtable(roundtable)
    has_errors = bool(form.errors) or any(e.form.errors for e in form.walk_ins.entries)
    return render_template("roundtables/attendance.html", roundtable=roundtable, form=form,
                           started=roundtable.starts_at <= services.now()), (422 if has_errors and request.method == "POST" else 200)


@bp.route("/roundtables/<int:roundtable_id>/minutes", methods=["GET", "POST"])
@login_required
def minutes(roundtable_id: int):
    roundtable = managed_or_403(Roundtable, roundtable_id)
    form = MinutesForm()
    if request.method == "GET":
        form.minutes.data = roundtable.minutes_md
    if form.validate_on_submit():
        try:
            services.publish_minutes(roundtable, form.minutes.data)
        except services.RoundtableError as exc:
            db.session.rollback()
            form.minutes.errors = [str(exc)]
        else:
            db.session.commit()
            flash(_("Minutes published."), "success")
            return _to_roundtable(roundtable)
    return render_template("roundtables/minutes.html", roundtable=roundtable, form=form), (422 if form.errors else 200)


# -- capture from the room ----------------------------------------------------------------

@bp.route("/roundtables/<int:roundtable_id>/capture", methods=["GET", "POST"])
@login_required
def capture(roundtable_id: int):
    roundtable = visible_or_404(Roundtable, roundtable_id)
    refusal = services.capture_refusal(current_user, roundtable)
    if refusal:
        fail(403, refusal)
    consultation = roundtable.consultation
    form = CaptureForm(language_choices=language_choices(consultation))
    if request.method == "GET":
        form.language.data = consultation.language or "en"
        extra = min(max(request.args.get("rows", type=int) or 5, 5), 50)
        while len(form.rows.entries) < extra:
            form.rows.append_entry()
    saved, kept = 0, []
    if request.method == "POST":
        try:
            clean_language(consultation, form.language.data)
        except ContributionError as exc:
            form.language.errors = [str(exc)]
            return render_template("roundtables/capture.html", roundtable=roundtable, form=form, kept=[]), 422
    if form.validate_on_submit() or (request.method == "POST" and set(form.errors) <= {"rows"}):
        for entry in form.rows.entries:
            row = entry.form
            if row.is_blank():
                continue
            if not row.check():
                kept.append(row)
                continue
            try:
                with db.session.begin_nested():
                    services.capture_contribution(
                        roundtable, current_user, kind=row.kind.data, title=row.title.data, body=row.body.data or "",
                        objectives=row.objectives.data, category=row.category.data, level=row.level.data or None,
                        language=form.language.data or None,
                    )
            except ContributionError as exc:
                getattr(row, exc.field or "title").errors = [str(exc)]
                kept.append(row)
            else:
                saved += 1
        db.session.commit()
        if not kept:
            flash(ngettext("%(num)s contribution saved for this roundtable.", "%(num)s contributions saved for this roundtable.", saved), "success")
            return _to_roundtable(roundtable)
        flash(_("%(saved)s saved.", saved=saved) + " " + ngettext(
            "%(num)s row needs correcting: it is below with what you typed.",
            "%(num)s rows need correcting: they are below with what you typed.", len(kept)), "error")
        # Show only the rows still to correct, renumbered, with their values and errors.
        errors = [row.errors for row in kept]
        form = CaptureForm(formdata=None, data={"rows": [row.data for row in kept], "language": form.language.data},
                           language_choices=language_choices(consultation))
        for entry, row_errors in zip(form.rows.entries, errors):
            for name, messages in row_errors.items():
                getattr(entry.form, name).errors = list(messages)
    return render_template("roundtables/capture.html", roundtable=roundtable, form=form,
                           kept=kept), (422 if kept else 200)


# -- continuity -------------------------------------------------------------------------------

@bp.route("/roundtables/<int:roundtable_id>/carry-forward", methods=["GET", "POST"])
@login_required
def carry_forward(roundtable_id: int):
    roundtable = managed_or_403(Roundtable, roundtable_id)
    previous = services.previous_roundtable(roundtable)
    candidates = services.open_challenges_of(previous) if previous else []
    form = CarryForwardForm()
    form.challenges.choices = choices((c.id, c.title) for c in candidates)
    if request.method == "GET":
        form.challenges.data = [c.id for c in candidates]
    if form.validate_on_submit():
        try:
            added = services.carry_forward(roundtable, form.challenges.data or [])
        except services.RoundtableError as exc:
            db.session.rollback()
            form.challenges.errors = [str(exc)]
        else:
            db.session.commit()
            flash(ngettext("%(num)s challenge carried forward to this roundtable's agenda.", "%(num)s challenges carried forward to this roundtable's agenda.", added), "success")
            return _to_roundtable(roundtable)
    return render_template("roundtables/carry_forward.html", roundtable=roundtable, previous=previous,
                           form=form), (422 if form.errors else 200)


@bp.route("/challenges/<int:contribution_id>/addressed", methods=["GET", "POST"])
@login_required
def addressed(contribution_id: int):
    challenge = managed_or_403(Contribution, contribution_id)
    if challenge.kind != "challenge":
        fail(404)
    form = AddressedForm()
    if request.method == "GET":
        form.note.data = challenge.addressed_note
    if form.validate_on_submit():
        services.mark_addressed(challenge, form.note.data)
        db.session.commit()
        flash(_("The challenge is marked addressed."), "success")
        return redirect(url_for("contributions.show", contribution_id=challenge.id))
    return render_template("roundtables/addressed.html", challenge=challenge, form=form), (422 if form.errors else 200)


# -- standing bodies ------------------------------------------------------------------------------

@bp.get("/consultations/<int:consultation_id>/members")
def members(consultation_id: int):
    consultation = visible_or_404(Consultation, consultation_id)
    if consultation.kind != "local_council":
        fail(404)
    pagination = db.paginate(services.members_of(consultation), page=page_number(request.args.get("page")),
                             per_page=50, error_out=False)
    return render_template("roundtables/members.html", consultation=consultation, pagination=pagination,
                           composition=services.composition(consultation),
                           manager=permissions.can_manage_consultation(current_user, consultation))


def _member_form() -> MemberForm:
    form = MemberForm()
    form.organisation_id.choices = choices(all_organisations_choices())
    return form


@bp.route("/consultations/<int:consultation_id>/members/new", methods=["GET", "POST"])
@login_required
def add_member(consultation_id: int):
    consultation = managed_or_403(Consultation, consultation_id)
    if consultation.kind != "local_council":
        fail(404)
    form = _member_form()
    if form.validate_on_submit():
        from ..organisations.models import Organisation

        try:
            services.add_member(consultation, db.session.get(Organisation, form.organisation_id.data),
                                status=form.status.data, joined_on=form.joined_on.data, left_on=form.left_on.data)
        except services.RoundtableError as exc:
            db.session.rollback()
            getattr(form, exc.field or "organisation_id").errors = [str(exc)]
        else:
            db.session.commit()
            flash(_("Added."), "success")
            return redirect(url_for("roundtables.members", consultation_id=consultation.id))
    return render_template("roundtables/member_form.html", consultation=consultation, form=form,
                           member=None), (422 if form.errors else 200)


@bp.route("/members/<int:member_id>/edit", methods=["GET", "POST"])
@login_required
def edit_member(member_id: int):
    member = db.get_or_404(CouncilMember, member_id)
    consultation = managed_or_403(Consultation, member.consultation_id)
    form = _member_form()
    form.organisation_id.choices = choices([(member.organisation_id, member.organisation.name)])
    if request.method == "GET":
        form.organisation_id.data = member.organisation_id
        form.status.data, form.joined_on.data, form.left_on.data = member.status, member.joined_on, member.left_on
    if form.validate_on_submit():
        try:
            services.update_member(member, status=form.status.data, joined_on=form.joined_on.data, left_on=form.left_on.data)
        except services.RoundtableError as exc:
            db.session.rollback()
            getattr(form, exc.field or "status").errors = [str(exc)]
        else:
            db.session.commit()
            flash(_("Saved."), "success")
            return redirect(url_for("roundtables.members", consultation_id=consultation.id))
    return render_template("roundtables/member_form.html", consultation=consultation, form=form,
                           member=member), (422 if form.errors else 200)
