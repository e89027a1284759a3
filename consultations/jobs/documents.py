"""Document jobs: the Word, PDF and spreadsheet files of a live summary, a national
compilation or a published version, made by a worker with progress.

Parameters (``job.params``): ``source`` ("summary", "national", "national_summary" or
"version") with ``consultation_id`` / ``ids`` / ``summary_id`` (a saved national summary) /
``version_id`` (a published version of a consultation's summary or of a national one), ``fmt`` (docx, pdf, xlsx), ``locale`` (the
file's language) and ``base_url`` (for the links in the file). The owner is the person
who asked; the files of published versions belong to nobody and are kept.
"""
from __future__ import annotations

import functools
import hashlib
from pathlib import Path

from flask import current_app
from flask_babel import lazy_gettext as _l

from ..accounts.models import User
from ..consultations.models import Consultation
from ..extensions import db
from ..permissions import can_view_consultation
from ..summaries import exports
from ..summaries import services as summaries
from ..summaries.models import Summary, SummaryVersion
from ..summaries.permissions import (
    can_keep_national,
    can_read_live_summary,
    can_read_published_summary,
)
from .services import JobError, Kind, Output, register

# Formats made by a job (the others stream within the request).
JOB_FORMATS = ("docx", "pdf", "xlsx")
# Raise it when the files of published versions must be made again although neither the
# writers nor the report template changed (their contents count too: documents_version()).
DOCUMENTS_VERSION = 1


@functools.cache
def documents_version() -> str:
    """The version of the document writers: a stored file made by another is made again."""
    digest = hashlib.sha256()
    package = Path(__file__).resolve().parent.parent
    for path in (package / "summaries" / "exports.py", package / "summaries" / "charts.py",
                 Path(current_app.template_folder) / "summaries" / "report.html"):
        try:
            digest.update(path.read_bytes())
        except OSError:
            pass
    return f"{DOCUMENTS_VERSION}-{digest.hexdigest()[:10]}"


def version_key(version: SummaryVersion, fmt: str, locale: str) -> str:
    return f"version:{version.id}:{fmt}:{locale}:{documents_version()}"


def live_key(source: str, ident, fmt: str, locale: str) -> str:
    return f"{source}:{ident}:{fmt}:{locale}"


STAGES = {
    "queued": _l("Waiting for a worker"),
    "waiting": _l("Waiting to try again"),
    "starting": _l("Starting"),
    "compiling": _l("Compiling the summary"),
    "contributions": _l("Writing the contributions"),
    "layout": _l("Laying out the pages"),
    "joining": _l("Joining the parts"),
    "saving": _l("Saving the file"),
    "sending": _l("Sending"),
    "done": _l("Ready"),
    "failed": _l("Failed"),
}


def _consultation(consultation_id: int) -> Consultation:
    consultation = db.session.get(Consultation, consultation_id)
    if consultation is None:
        raise JobError(str(_l("This consultation no longer exists.")))
    return consultation


def _national(summary_id: int) -> Summary:
    summary = summaries.get_national(summary_id)
    if summary is None:
        raise JobError(str(_l("This national summary no longer exists.")))
    return summary


def _version(version_id: int) -> tuple[SummaryVersion, Summary, Consultation | None]:
    """A published version, its summary and its consultation (None: a national summary's)."""
    version = db.session.get(SummaryVersion, version_id)
    summary = db.session.get(Summary, version.summary_id) if version is not None else None
    if version is None or summary is None:
        raise JobError(str(_l("This version no longer exists.")))
    if summary.is_national:
        return version, summary, None
    return version, summary, _consultation(summary.consultation_id)


def may_see(job, user) -> bool:
    params = job.params
    try:
        if params["source"] == "summary":
            consultation = db.session.get(Consultation, params["consultation_id"])
            return consultation is not None and can_view_consultation(user, consultation) and \
                can_read_live_summary(user, consultation)
        if params["source"] == "national":
            summaries.resolve_selection(user, params["ids"])
            return True
        if params["source"] == "national_summary":
            _national(params["summary_id"])
            return can_keep_national(user)
        if params["source"] == "version":
            _v, _s, consultation = _version(params["version_id"])
            if consultation is None:  # a saved national summary's: reviewers and admins only
                return can_keep_national(user)
            return can_view_consultation(user, consultation) and can_read_published_summary(user, consultation)
    except (JobError, summaries.SelectionRefused, KeyError):
        return False
    return False


def label(job) -> str:
    params = job.params
    fmt = str(_l(exports.FORMATS.get(params.get("fmt"), ("", params.get("fmt", "")))[1]))
    try:
        if params["source"] == "summary":
            return str(_l("%(format)s of the summary of “%(title)s”", format=fmt,
                          title=_consultation(params["consultation_id"]).title))
        if params["source"] == "national_summary":
            return str(_l("%(format)s of the national summary “%(title)s”", format=fmt,
                          title=_national(params["summary_id"]).title))
        if params["source"] == "version":
            version, summary, consultation = _version(params["version_id"])
            if consultation is None:
                return str(_l("%(format)s of version %(number)s of the national summary “%(title)s”", format=fmt,
                              number=version.number, title=summary.title))
            return str(_l("%(format)s of version %(number)s of the summary of “%(title)s”", format=fmt,
                          number=version.number, title=consultation.title))
        return str(_l("%(format)s of a national compilation of %(n)s consultations", format=fmt, n=len(params["ids"])))
    except (JobError, KeyError):
        return fmt


class _Counted:
    """A compiled summary whose contributions report progress as the writer takes them."""

    def __init__(self, compiled, progress, start: float, span: float):
        self.meta = compiled.meta
        self._compiled = compiled
        self._progress, self._start, self._span = progress, start, span
        self._total = max(1, summaries.count_value(compiled.meta["totals"]["contributions"]))

    def good_practices(self):
        return self._compiled.good_practices()

    def contributions(self):
        for n, item in enumerate(self._compiled.contributions(), start=1):
            if n % 50 == 0:
                self._progress(self._start + self._span * min(1.0, n / self._total), "contributions")
            yield item

    def document(self):
        return self._compiled.document()


def _compiled(job, owner):
    params = job.params
    source = params.get("source")
    if source == "summary":
        consultation = _consultation(params["consultation_id"])
        if owner is None or not can_read_live_summary(owner, consultation):
            raise JobError(str(_l("You may no longer read this summary.")))
        return summaries.compile_for_viewer(consultation, owner)
    if source == "national":
        try:
            selected = summaries.resolve_selection(owner, params["ids"])
        except summaries.SelectionRefused as exc:
            raise JobError(str(exc)) from None
        return summaries.compile_national(selected)
    if source == "national_summary":
        summary = _national(params["summary_id"])
        if owner is None or not can_keep_national(owner):
            raise JobError(str(_l("You may no longer read this national summary.")))
        return summaries.compile_national_summary(summary)
    if source == "version":
        version, _s, _c = _version(params["version_id"])
        return summaries.Compiled.from_document(version.document)
    raise JobError(f"Unknown source {source!r}.")


def run(job, progress) -> Output:
    params = job.params
    fmt = params.get("fmt")
    if fmt not in JOB_FORMATS:
        raise JobError(f"Unknown format {fmt!r}.")
    owner = db.session.get(User, job.owner_id) if job.owner_id else None
    progress(0.02, "compiling")
    compiled = _compiled(job, owner)
    base_url = params.get("base_url") or ""
    if fmt == "pdf":
        counted = _Counted(compiled, progress, 0.05, 0.15)
        data = exports.to_pdf(counted, base_url=base_url, progress=progress)
    elif fmt == "docx":
        data = exports.to_docx(_Counted(compiled, progress, 0.05, 0.85))
    else:
        data = exports.to_xlsx(_Counted(compiled, progress, 0.05, 0.85), base_url=base_url)
    progress(0.98, "saving")
    return Output(data=data, ext=fmt, mimetype=exports.FORMATS[fmt][0],
                  disposition=exports.content_disposition(compiled.meta, fmt))


register("document", Kind(run=run, may_see=may_see, label=label))
