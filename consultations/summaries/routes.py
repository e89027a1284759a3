"""Summary pages and downloads. Views stay thin: the rules are in services.py."""
from __future__ import annotations

import os

from flask import Blueprint, Response, current_app, flash, redirect, render_template, request, stream_with_context, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from ..consultations.http import managed_or_403, visible_or_404
from ..consultations.models import Consultation
from ..extensions import db
from ..http import MAX_ID, fail, page_number
from ..i18n import format_count
from ..jobs.documents import JOB_FORMATS
from ..jobs.routes import document_download, prepare_after_publish, stored_download
from . import exports, services
from . import charts
from .charts import charts_for
from .forms import (
    ContributionsFilterForm,
    NationalForm,
    NationalSummaryForm,
    PinForm,
    PublishForm,
    SectionForm,
    SettingsForm,
)
from .permissions import can_compile, can_keep_national, can_manage_summary, can_read_live_summary, can_read_published_summary

bp = Blueprint("summaries", __name__)

# Contributions above which Word and PDF downloads are refused (MESA_SUMMARY_DOCUMENT_LIMIT):
# none by default, since background jobs make them (consultations/jobs); an operator may
# still set one.
DOCUMENT_LIMIT = 0


def _document_limit_from_environment() -> int:
    try:
        return max(int(os.environ.get("MESA_SUMMARY_DOCUMENT_LIMIT", DOCUMENT_LIMIT)), 0)
    except ValueError:
        return DOCUMENT_LIMIT


@bp.app_template_filter("shown")
def _shown(n, threshold):
    return exports.shown(n, threshold)


@bp.app_template_filter("percent")
def _percent(p):
    """A share in percent (41.7) as the interface language writes it ("41,7 %")."""
    return exports.percent(p)


def _managed(consultation_id: int) -> Consultation:
    return managed_or_403(
        Consultation, consultation_id, may=can_manage_summary,
        message=_("Only the organisers of this consultation can edit and publish its summary."),
    )


def _save(form, default_field: str, save, *args, **kwargs) -> int | None:
    """Run ``save(*args, **kwargs)`` for a valid form and commit. None once saved; otherwise the status
    to show the form again with: 409 with the conflict flashed when the summary changed meanwhile,
    422 with the error on the field it names (else on ``default_field``)."""
    try:
        save(*args, **kwargs)
    except services.SummaryConflict as exc:
        db.session.rollback()
        flash(str(exc), "error")
        return 409
    except services.SummaryError as exc:
        db.session.rollback()
        getattr(form, exc.field or default_field).errors.append(str(exc))
        return 422
    db.session.commit()
    return None


def _section_or_404(key: str):
    sec = services.section(key)
    if sec is None:
        fail(404)
    return sec


def _refuse_above_limit(compile, fmt: str) -> None:
    """422 for a Word or PDF file above MESA_SUMMARY_DOCUMENT_LIMIT contributions, when an
    operator set one (none by default: jobs make them, off the request)."""
    limit = current_app.config.get("MESA_SUMMARY_DOCUMENT_LIMIT") or _document_limit_from_environment()
    if fmt not in ("docx", "pdf") or not limit:
        return
    compiled = compile()
    total = services.count_value(compiled.meta["totals"]["contributions"])
    if total > limit:
        fail(
            422,
            _(
                "This summary has %(total)s contributions: Word and PDF files are made for up to %(limit)s. "
                "Download the spreadsheet, CSV, JSON or Markdown, or compile fewer consultations.",
                total=format_count(total), limit=format_count(limit),
            ),
        )


def _download(compiled, fmt: str, version: int | None = None) -> Response:
    if fmt not in exports.FORMATS:
        fail(404)
    mimetype = exports.FORMATS[fmt][0]
    _refuse_above_limit(lambda: compiled, fmt)
    headers = {"Content-Disposition": exports.content_disposition(compiled.meta, fmt)}
    if fmt == "csv":
        body = stream_with_context(exports.csv_chunks(compiled))
    elif fmt == "json":
        body = stream_with_context(exports.json_chunks(compiled))
    elif fmt == "md":
        body = stream_with_context(exports.markdown_chunks(compiled))
    elif fmt == "xlsx":
        body = exports.to_xlsx(compiled)
    elif fmt == "docx":
        body = exports.to_docx(compiled)
    else:
        body = exports.to_pdf(compiled, base_url=request.url_root)
    return Response(body, mimetype=mimetype, headers=headers)


@bp.get("/charts/<key>.png")
def chart(key: str):
    """A summary chart, drawn once and kept (summaries/charts.py): pages show it by URL."""
    return charts.response(key)


# -- one consultation ------------------------------------------------------------------
@bp.get("/consultations/<int:consultation_id>/summary")
def show(consultation_id: int):
    consultation = visible_or_404(Consultation, consultation_id)
    if not can_read_live_summary(current_user, consultation):
        latest = services.latest_version(consultation) if can_read_published_summary(current_user, consultation) else None
        if latest is None:
            if consultation.state == "closed" and services.latest_version(consultation) is not None:
                # Published, not public yet: say so truthfully, and where to read it.
                fail(404, _("A summary of this consultation has been published; it becomes public when the "
                            "consultation's results are published. Sign in to read it."))
            fail(404, _("No summary of this consultation has been published yet."))
        return redirect(url_for("summaries.version", consultation_id=consultation.id, number=latest.number))
    manage = can_manage_summary(current_user, consultation)
    summary = services.summary_for(consultation)
    settings = services.Settings.of(summary)
    if manage:
        state = services.draft_state(summary)
        states = {consultation.id: state}
    else:
        states = services.published_states([consultation.id])
        state = states.get(consultation.id)
    mapping = {k: v["objectives"] for k, v in state.items()} if state else None
    meta = services.compile_statistics([consultation], settings)
    sections = services.compile_sections(
        [consultation], states=states, mapping=mapping or {s.key: list(s.default_objectives) for s in services.review_sections()},
        with_proposals=False, signature=meta.pop("_signature"), protection=meta.pop("_protection"),
    )
    meta.update(settings=settings.as_dict(), consultations=[], title="")
    filters = ContributionsFilterForm(request.args)
    page = services.grouped_contributions_page(
        [consultation.id], page=page_number(request.args.get("page")), **filters.values()
    )
    good_practices = services.grouped_contributions_page(
        [consultation.id], page=page_number(request.args.get("gp")), kind="good_practice", per_page=10
    )
    versions = list(db.session.scalars(services.versions_query(consultation).limit(5)))
    return render_template(
        "summaries/show.html",
        consultation=consultation,
        summary=summary,
        meta=meta,
        sections=sections,
        charts=charts_for(meta),
        page=page,
        good_practices=good_practices,
        filters=filters,
        versions=versions,
        manage=manage,
        publish_form=PublishForm(revision=summary.revision),
        formats=exports.FORMATS,
    )


@bp.get("/consultations/<int:consultation_id>/summary/download.<fmt>")
@login_required
def download(consultation_id: int, fmt: str):
    consultation = visible_or_404(Consultation, consultation_id)
    if not can_read_live_summary(current_user, consultation):
        fail(403, _("Only the organisers of this consultation and reviewers can download its live summary."))
    if fmt not in exports.FORMATS:
        fail(404)
    if fmt in JOB_FORMATS:  # made by a background job: its page, or the file when ready
        _refuse_above_limit(lambda: services.compile_for_viewer(consultation, current_user), fmt)
        return document_download({"source": "summary", "consultation_id": consultation.id}, fmt, current_user)
    return _download(services.compile_for_viewer(consultation, current_user), fmt)


@bp.route("/consultations/<int:consultation_id>/summary/settings", methods=["GET", "POST"])
@login_required
def settings(consultation_id: int):
    consultation = _managed(consultation_id)
    summary = services.summary_for(consultation)
    form = SettingsForm(obj=summary if request.method == "GET" else None)
    if request.method == "GET":
        form.revision.data = summary.revision
    status = 200
    if form.validate_on_submit():
        status = _save(
            form, "privacy_threshold", services.update_settings,
            consultation,
            seen_revision=form.revision.data,
            privacy_threshold=form.privacy_threshold.data,
            migrant_min_percent=form.migrant_min_percent.data,
            dominance_max_percent=form.dominance_max_percent.data,
        )
        if status is None:
            flash(_("Summary settings saved."), "success")
            return redirect(url_for("summaries.show", consultation_id=consultation.id))
    if form.errors:
        status = 422
    return render_template("summaries/settings.html", consultation=consultation, form=form), status


@bp.route("/consultations/<int:consultation_id>/summary/sections/<key>", methods=["GET", "POST"])
@login_required
def section(consultation_id: int, key: str):
    consultation = _managed(consultation_id)
    sec = _section_or_404(key)
    summary = services.summary_for(consultation)
    form = SectionForm()
    row = summary.section(key) if summary.id else None
    objectives = services.effective_objectives(summary, sec)
    if request.method == "GET":
        form.text.data = row.text_md if row else ""
        form.objectives.data = objectives
        form.use_default.data = row is None or row.objectives_override is None
        form.revision.data = summary.revision
    status = 200
    if form.validate_on_submit():
        status = _save(
            form, "text", services.update_section,
            consultation,
            key,
            seen_revision=form.revision.data,
            text=form.text.data or "",
            objectives=None if form.use_default.data else (form.objectives.data or []),
        )
        if status is None:
            flash(_("Section saved. It stays private until you publish the summary."), "success")
            return redirect(url_for("summaries.section", consultation_id=consultation.id, key=key))
    if form.errors:
        status = 422
    state = services.draft_state(summary)[key]
    page = services.section_proposals_page(
        consultation, objectives, sec.kinds, page=page_number(request.args.get("page"))
    )
    pinned = services.pinned_dicts(state["pinned"])
    return render_template(
        "summaries/section.html",
        consultation=consultation,
        sec=sec,
        form=form,
        state=state,
        page=page,
        pinned=pinned,
        objectives=objectives,
        pin_form=PinForm(revision=summary.revision),
        revision=summary.revision,
        summary_title=consultation.title,
        summary_url=url_for("summaries.show", consultation_id=consultation.id),
        pin_url=url_for("summaries.pin", consultation_id=consultation.id, key=key),
    ), status


def _save_pin(target, key: str) -> None:
    """Pin, drop or clear a contribution in a section of a consultation's summary or of a
    national summary (the form posted), committing; a stale revision is flashed back."""
    form = PinForm()
    if not form.validate_on_submit():
        fail(400, _("Choose a contribution and pin, drop or clear; reload the page if it is old."))
    try:
        services.set_pin(target, key, form.contribution_id.data, form.action.data, seen_revision=form.revision.data)
    except services.SummaryConflict as exc:
        db.session.rollback()
        flash(str(exc), "error")
    except services.SummaryError as exc:
        db.session.rollback()
        fail(422, str(exc))
    else:
        db.session.commit()
        flash(_pin_message(form.action.data), "success")


@bp.post("/consultations/<int:consultation_id>/summary/sections/<key>/pins")
@login_required
def pin(consultation_id: int, key: str):
    consultation = _managed(consultation_id)
    _section_or_404(key)
    _save_pin(consultation, key)
    return redirect(url_for("summaries.section", consultation_id=consultation.id, key=key))


def _pin_message(action: str) -> str:
    return {
        "pin": _("Pinned."), "drop": _("Dropped from this section."), "clear": _("Back among the proposals."),
        "up": _("Moved up."), "down": _("Moved down."),
    }[action]


@bp.post("/consultations/<int:consultation_id>/summary/publish")
@login_required
def publish(consultation_id: int):
    consultation = _managed(consultation_id)
    form = PublishForm()
    if not form.validate_on_submit():
        return render_template("summaries/publish_error.html", consultation=consultation, form=form, message=None,
                               back=url_for("summaries.show", consultation_id=consultation.id)), 422
    try:
        version = services.publish(consultation, current_user, seen_revision=form.revision.data, note=form.note.data or "")
    except services.SummaryConflict as exc:
        db.session.rollback()
        return render_template("summaries/publish_error.html", consultation=consultation, form=form, message=str(exc),
                               back=url_for("summaries.show", consultation_id=consultation.id)), 409
    except services.SummaryError as exc:
        db.session.rollback()
        return render_template("summaries/publish_error.html", consultation=consultation, form=form, message=str(exc),
                               back=url_for("summaries.show", consultation_id=consultation.id)), 422
    db.session.commit()
    number = version.number
    prepare_after_publish(version, consultation)  # its Word, PDF and spreadsheet files, made by jobs
    flash(_("Version %(number)s of the summary is published.", number=number), "success")
    return redirect(url_for("summaries.version", consultation_id=consultation.id, number=number))


# -- published versions ---------------------------------------------------------------------
def _readable_versions(consultation_id: int) -> Consultation:
    consultation = visible_or_404(Consultation, consultation_id)
    if not can_read_published_summary(current_user, consultation):
        fail(404, _("No summary of this consultation has been published yet."))
    return consultation


@bp.get("/consultations/<int:consultation_id>/summary/versions")
def versions(consultation_id: int):
    consultation = _readable_versions(consultation_id)
    pagination = db.paginate(
        services.versions_query(consultation), page=page_number(request.args.get("page")), per_page=20, error_out=False
    )
    return render_template("summaries/versions.html", consultation=consultation, pagination=pagination)


def _version_or_404(consultation: Consultation, number: int):
    version = services.get_version(consultation, number)
    if version is None:
        fail(404)
    return version


@bp.get("/consultations/<int:consultation_id>/summary/versions/<int:number>")
def version(consultation_id: int, number: int):
    consultation = _readable_versions(consultation_id)
    version = _version_or_404(consultation, number)
    document = version.document
    contributions = services.page_of_list(document["contributions"], page_number(request.args.get("page")))
    return render_template(
        "summaries/version.html",
        consultation=consultation,
        version=version,
        meta=document,
        charts=charts_for(document),
        contributions=contributions,
        formats=exports.FORMATS,
    )


@bp.get("/consultations/<int:consultation_id>/summary/versions/<int:number>/download.<fmt>")
def version_download(consultation_id: int, number: int, fmt: str):
    consultation = _readable_versions(consultation_id)
    version = _version_or_404(consultation, number)
    if fmt not in exports.FORMATS:
        fail(404)
    if fmt in JOB_FORMATS:  # made once, by a job, then served from storage
        _refuse_above_limit(lambda: services.Compiled.from_document(version.document), fmt)
        return stored_download(version, fmt)
    return _download(services.Compiled.from_document(version.document), fmt)


# -- national compilation ---------------------------------------------------------------------
def _selection():
    """The consultations named in the query string, or (None, form) to re-render."""
    form = NationalForm(request.args)
    if not can_compile(current_user):
        fail(403, _("Reviewers, organisers and administrators compile summaries across consultations."))
    if "c" not in request.args:
        return None, form, 200
    if not form.validate():
        return None, form, 422
    try:
        return services.resolve_selection(current_user, form.c.data), form, 200
    except services.SelectionRefused as exc:
        if exc.code == 422:
            form.c.errors = [str(exc)]
            return None, form, 422
        fail(exc.code, str(exc))


@bp.get("/summaries/national")
@login_required
def national():
    selected, form, status = _selection()
    choices = db.paginate(
        services.compilable_consultations(current_user), page=page_number(request.args.get("page")), per_page=30, error_out=False
    )
    context = dict(form=form, choices=choices, selected=selected or [], formats=exports.FORMATS, keep=can_keep_national(current_user))
    if selected:
        settings = None
        compiled = services.compile_national(selected, settings)
        context.update(meta=compiled.meta, charts=charts_for(compiled.meta))
    return render_template("summaries/national.html", **context), status


@bp.get("/summaries/national/download.<fmt>")
@login_required
def national_download(fmt: str):
    selected, form, status = _selection()
    if fmt not in exports.FORMATS:
        fail(404)
    if not selected:
        fail(422 if status == 422 or "c" in request.args else 400, _("Choose at least one consultation to compile."))
    if fmt in JOB_FORMATS:
        _refuse_above_limit(lambda: services.compile_national(selected), fmt)
        return document_download({"source": "national", "ids": [c.id for c in selected]}, fmt, current_user)
    return _download(services.compile_national(selected), fmt)


# -- saved national summaries (reviewers and admins) ------------------------------------------
def _keeper() -> None:
    if not can_keep_national(current_user):
        fail(403, _("Only reviewers and administrators keep national summaries."))


def _national_or_404(summary_id: int):
    _keeper()
    summary = services.get_national(summary_id)
    if summary is None:
        fail(404)
    return summary


def _national_form_page(form, summary=None, status: int = 200):
    """The create/edit form: the chosen consultations, then one page of those the person may
    compile (pages are turned by submitting the form, so nothing typed is lost)."""
    choices = db.paginate(
        services.compilable_consultations(current_user),
        page=page_number(request.form.get("choices_page") or request.args.get("page")), per_page=30, error_out=False,
    )
    on_page = {c.id for c in choices.items}
    wanted = [i for i in (form.c.data or []) if isinstance(i, int) and i not in on_page][: services.MAX_SELECTION]
    chosen = list(db.session.scalars(services.compilable_consultations(current_user).where(Consultation.id.in_(wanted))))
    return render_template(
        "summaries/national/form.html", form=form, summary=summary, choices=choices, chosen=chosen,
    ), status


def _national_values(form) -> dict:
    return dict(
        title=form.title.data or "",
        consultation_ids=form.c.data or [],
        privacy_threshold=form.privacy_threshold.data,
        migrant_min_percent=form.migrant_min_percent.data,
        dominance_max_percent=form.dominance_max_percent.data,
    )


@bp.get("/summaries/national/saved")
@login_required
def national_summaries():
    _keeper()
    pagination = db.paginate(
        services.national_summaries_query(), page=page_number(request.args.get("page")), per_page=20, error_out=False
    )
    return render_template("summaries/national/index.html", pagination=pagination)


@bp.route("/summaries/national/new", methods=["GET", "POST"])
@login_required
def national_new():
    _keeper()
    form = NationalSummaryForm(revision=0)
    if request.method == "GET":
        form.c.data = [i for i in (request.args.getlist("c", type=int) or []) if 0 < i <= MAX_ID][: services.MAX_SELECTION]
        form.privacy_threshold.data = services.strictest_threshold(form.c.data)
        form.migrant_min_percent.data = services.Settings.migrant_min_percent
        form.dominance_max_percent.data = services.Settings.dominance_max_percent
        return _national_form_page(form)
    if "choices_page" in request.form:
        return _national_form_page(form)
    if form.validate_on_submit():
        try:
            summary = services.create_national(current_user, **_national_values(form))
        except services.SummaryError as exc:
            db.session.rollback()
            getattr(form, exc.field or "title").errors.append(str(exc))
        else:
            db.session.commit()
            flash(_("National summary saved. Write its narrative question by question."), "success")
            return redirect(url_for("summaries.national_summary", summary_id=summary.id))
    return _national_form_page(form, status=422)


@bp.get("/summaries/national/<int:summary_id>")
@login_required
def national_summary(summary_id: int):
    summary = _national_or_404(summary_id)
    compiled = services.compile_national_summary(summary)
    versions = db.paginate(
        services.versions_query(summary), page=page_number(request.args.get("versions")), per_page=10, error_out=False
    )
    return render_template(
        "summaries/national/show.html",
        summary=summary,
        meta=compiled.meta,
        charts=charts_for(compiled.meta),
        versions=versions,
        publish_form=PublishForm(revision=summary.revision),
        formats=exports.FORMATS,
    )


@bp.route("/summaries/national/<int:summary_id>/edit", methods=["GET", "POST"])
@login_required
def national_edit(summary_id: int):
    summary = _national_or_404(summary_id)
    form = NationalSummaryForm(obj=summary if request.method == "GET" else None)
    if request.method == "GET":
        form.revision.data = summary.revision
        form.c.data = services.summary_consultation_ids(summary)
        return _national_form_page(form, summary)
    if "choices_page" in request.form:
        return _national_form_page(form, summary)
    status = 422
    if form.validate_on_submit():
        status = _save(form, "title", services.update_national, summary, current_user,
                       seen_revision=form.revision.data, **_national_values(form))
        if status is None:
            flash(_("National summary saved."), "success")
            return redirect(url_for("summaries.national_summary", summary_id=summary.id))
    return _national_form_page(form, summary, status=status)


@bp.route("/summaries/national/<int:summary_id>/sections/<key>", methods=["GET", "POST"])
@login_required
def national_section(summary_id: int, key: str):
    summary = _national_or_404(summary_id)
    sec = _section_or_404(key)
    form = SectionForm()
    row = summary.section(key)
    objectives = services.effective_objectives(summary, sec)
    if request.method == "GET":
        form.text.data = row.text_md if row else ""
        form.objectives.data = objectives
        form.use_default.data = row is None or row.objectives_override is None
        form.revision.data = summary.revision
    status = 200
    if form.validate_on_submit():
        status = _save(
            form, "text", services.update_section, summary, key,
            seen_revision=form.revision.data,
            text=form.text.data or "",
            objectives=None if form.use_default.data else (form.objectives.data or []),
        )
        if status is None:
            flash(_("Section saved. It stays private to reviewers until you publish the national summary."), "success")
            return redirect(url_for("summaries.national_section", summary_id=summary.id, key=key))
    if form.errors:
        status = 422
    state = services.draft_state(summary)[key]
    page = services.section_proposals_page(summary, objectives, sec.kinds, page=page_number(request.args.get("page")))
    return render_template(
        "summaries/section.html",
        summary_title=summary.title,
        summary_url=url_for("summaries.national_summary", summary_id=summary.id),
        pin_url=url_for("summaries.national_pin", summary_id=summary.id, key=key),
        sec=sec,
        form=form,
        state=state,
        page=page,
        pinned=services.pinned_dicts(state["pinned"]),
        objectives=objectives,
        revision=summary.revision,
    ), status


@bp.post("/summaries/national/<int:summary_id>/sections/<key>/pins")
@login_required
def national_pin(summary_id: int, key: str):
    summary = _national_or_404(summary_id)
    _section_or_404(key)
    _save_pin(summary, key)
    return redirect(url_for("summaries.national_section", summary_id=summary.id, key=key))


@bp.post("/summaries/national/<int:summary_id>/publish")
@login_required
def national_publish(summary_id: int):
    summary = _national_or_404(summary_id)
    form = PublishForm()
    back = url_for("summaries.national_summary", summary_id=summary.id)
    if not form.validate_on_submit():
        return render_template("summaries/publish_error.html", form=form, message=None, back=back), 422
    try:
        version = services.publish(summary, current_user, seen_revision=form.revision.data, note=form.note.data or "")
    except services.SummaryConflict as exc:
        db.session.rollback()
        return render_template("summaries/publish_error.html", form=form, message=str(exc), back=back), 409
    except services.SummaryError as exc:
        db.session.rollback()
        return render_template("summaries/publish_error.html", form=form, message=str(exc), back=back), 422
    db.session.commit()
    number = version.number
    prepare_after_publish(version)  # its Word, PDF and spreadsheet files, made by jobs
    flash(_("Version %(number)s of the national summary is published.", number=number), "success")
    return redirect(back)


@bp.get("/summaries/national/<int:summary_id>/download.<fmt>")
@login_required
def national_summary_download(summary_id: int, fmt: str):
    summary = _national_or_404(summary_id)
    if fmt not in exports.FORMATS:
        fail(404)
    if fmt in JOB_FORMATS:  # made by a background job: its page, or the file when ready
        _refuse_above_limit(lambda: services.compile_national_summary(summary), fmt)
        return document_download({"source": "national_summary", "summary_id": summary.id}, fmt, current_user)
    return _download(services.compile_national_summary(summary), fmt)


@bp.get("/summaries/national/<int:summary_id>/versions/<int:number>/download.<fmt>")
@login_required
def national_version_download(summary_id: int, number: int, fmt: str):
    summary = _national_or_404(summary_id)
    version = services.get_version(summary, number)
    if version is None or fmt not in exports.FORMATS:
        fail(404)
    if fmt in JOB_FORMATS:  # made once, by a job, then served from storage (ETag, 304)
        _refuse_above_limit(lambda: services.Compiled.from_document(version.document), fmt)
        return stored_download(version, fmt)
    return _download(services.Compiled.from_document(version.document), fmt)
