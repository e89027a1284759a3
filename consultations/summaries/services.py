"""Summaries: compile what one or several consultations produced, the organiser's
narrative along the review questionnaire, publishing frozen versions.

Every statistic is one SQL ``GROUP BY`` over the selected consultations; the
contributions themselves are streamed in keyset batches, so a compilation over
100,000 contributions never holds them all in memory.
"""
from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass, field
from functools import lru_cache
from importlib import resources
from typing import Callable, Iterator

from flask_babel import gettext as _
from sqlalchemy import and_, case, exists, func, literal, literal_column, null, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import aliased, defer, joinedload, selectinload

from ..consultations.models import Consultation, ConsultationObjective
from ..contributions.models import Contribution, ContributionObjective, ContributionPrinciple, proposal_answers
from ..contributions.voice import collected_by, voice
from ..extensions import db
from ..markdown import MAX_MARKDOWN_LENGTH, render_markdown
from ..reference import (
    CONSULTATION_KINDS,
    CONTRIBUTION_KINDS,
    GOVERNANCE_LEVELS,
    LANGUAGES,
    OBJECTIVE_COUNT,
    STAKEHOLDER_CATEGORIES,
    category_label,
    level_label,
    objective,
)
from ..roundtables.models import Roundtable
from ..timeutil import utcnow
from . import permissions
from .models import SectionPin, Summary, SummarySection, SummaryVersion, summary_consultations

SCHEMA = "mesa-summary/1"
MAX_SELECTION = 200
PROPOSALS_PER_SECTION_IN_DOCUMENTS = 10
BATCH = 1000
MIGRANT_CATEGORIES = ("migrant_association", "diaspora_organisation")
_KEY = re.compile(r"^[1-9][a-k]?$")


class SummaryError(ValueError):
    def __init__(self, message: str, field: str | None = None):
        super().__init__(message)
        self.field = field


class SummaryConflict(SummaryError):
    """Someone else changed or published the summary since this person loaded it."""


class SelectionRefused(Exception):
    def __init__(self, code: int, message: str):
        super().__init__(message)
        self.code = code


# -- the review questionnaire and the objective mapping ----------------------------
@dataclass(frozen=True)
class Section:
    key: str
    label: str
    question: str
    default_objectives: tuple[int, ...]
    kinds: tuple[str, ...]

    @property
    def is_item(self) -> bool:
        return len(self.key) > 1

    @property
    def display_label(self) -> str:
        """The label in the interface language ('Pregunta 2 (k)')."""
        return section_label(self.key)

    @property
    def display_question(self) -> str:
        """The question in the interface language (the English text is the message id)."""
        return _(self.question)


def _load(name: str) -> dict:
    with resources.files("consultations").joinpath(f"data/{name}").open(encoding="utf-8") as fh:
        return json.load(fh)


@lru_cache(maxsize=1)
def review_sections() -> tuple[Section, ...]:
    template = _load("review_template.json")
    mapping = _load("review_mapping.json")["sections"]
    out = []

    def add(key, label, text):
        spec = mapping.get(key, {})
        out.append(
            Section(
                key,
                label,
                text,
                tuple(spec.get("objectives", ())),
                tuple(spec.get("kinds", CONTRIBUTION_KINDS.keys())),
            )
        )

    for question in template["questions"]:
        number = question["number"]
        add(str(number), f"Question {number}", question["text"])
        for item in question.get("items", ()):
            add(f"{number}{item['key']}", f"Question {number} ({item['key']})", item["text"])
    return tuple(out)


def section_label(key: str) -> str:
    """'Question 2 (k)' in the interface language."""
    if len(key) > 1:
        return _("Question %(number)s (%(item)s)", number=key[0], item=key[1:])
    return _("Question %(number)s", number=key)


def section(key: str) -> Section | None:
    if not _KEY.match(key or ""):
        return None
    return next((s for s in review_sections() if s.key == key), None)


# -- settings -------------------------------------------------------------------------
@dataclass(frozen=True)
class Settings:
    privacy_threshold: int = 3
    migrant_min_percent: int = 25
    dominance_max_percent: int = 50

    @classmethod
    def of(cls, summary: Summary | None) -> "Settings":
        if summary is None:
            return cls()
        return cls(summary.privacy_threshold, summary.migrant_min_percent, summary.dominance_max_percent)

    def as_dict(self) -> dict:
        return {
            "privacy_threshold": self.privacy_threshold,
            "migrant_min_percent": self.migrant_min_percent,
            "dominance_max_percent": self.dominance_max_percent,
        }


# -- what is hidden, and why --------------------------------------------------------
# A count that is not published is never a number in the compiled summary: it is one
# of these strings, which says why it is hidden (the writers turn them into markers,
# see marker()). Versions frozen before this change hold None (read as "primary").
PRIMARY = "primary"  # from 1 to threshold - 1: "<3" is a true statement about it
COMPLEMENTARY = "complementary"  # hidden to protect another count; may be large: "×"
HIDDEN = (PRIMARY, COMPLEMENTARY)
# The groups a summary publishes instead of a stakeholder category (labels in
# reference.SUMMARY_GROUPS): contributions of the categories it does not name, and
# anonymous input, never broken down further.
COMBINED = "combined"
ANONYMOUS = "anonymous"


def is_hidden(value) -> bool:
    """A published count that is not given (a reason, or None in older versions)."""
    return value is None or value in HIDDEN


def hidden_reason(value) -> str | None:
    """PRIMARY, COMPLEMENTARY, or None for a published number."""
    if value is None:
        return PRIMARY
    return value if value in HIDDEN else None


def count_value(value) -> int:
    """A published count as a number for drawing or adding up: 0 when it is hidden."""
    return value if isinstance(value, int) and not isinstance(value, bool) else 0


def marker(value, threshold: int) -> str:
    """The text of a published count: the number, "<3" (fewer than the threshold) or
    "×" (hidden to protect another count; its true value may be large)."""
    reason = hidden_reason(value)
    if reason is None:
        return str(value)
    return "×" if reason == COMPLEMENTARY else f"<{threshold}"


def marker_notes(threshold: int) -> dict[str, str]:
    """The note under a table for each marker it uses ({marker: sentence}); one home for
    these texts so that every page and download says the same."""
    return {
        f"<{threshold}": _(
            "<%(t)s: fewer than %(t)s (from 1 to %(below)s), not published so that no contributor "
            "or participant can be singled out.", t=threshold, below=threshold - 1,
        ),
        "×": _(
            "×: not published to protect another hidden figure of the same row or table; "
            "the true number may be large."
        ),
    }


def markers_used(values) -> list[str]:
    """The notes (from :func:`marker_notes`) that a table whose cells are ``values`` needs,
    in a stable order: a writer prints them under the table."""
    reasons = {hidden_reason(v) for v in values} - {None}
    return [r for r in (PRIMARY, COMPLEMENTARY) if r in reasons]


def suppress(n: int, threshold: int):
    """A count as published: PRIMARY when it is below the threshold (zero is shown)."""
    return n if n == 0 or n >= threshold else PRIMARY


def protect_row(counts: dict, threshold: int) -> tuple[dict, bool]:
    """One row of counts whose total is published elsewhere, as published.

    Primary suppression hides every count from 1 to threshold - 1 (PRIMARY). The total
    minus the published counts gives the sum of the hidden ones, so more is hidden while
    that sum would give them away: a single hidden count, hidden counts that can only all
    be 1 (their sum equals their number), or small counts that can only all be
    threshold - 1. Each time, the smallest other non-zero count of the row is hidden too
    (COMPLEMENTARY: its true value may be large). Returns the published row and whether
    a complementary count was hidden.
    """
    out = {k: suppress(n, threshold) for k, n in counts.items()}
    extra = False
    while True:
        hidden = [k for k, v in out.items() if v in HIDDEN]
        others = [k for k, v in out.items() if v not in HIDDEN and v]  # published and non-zero
        if not hidden or not others:
            # Nothing hidden, or the hidden counts are the whole total, itself hidden.
            return out, extra
        hidden_sum = sum(counts[k] for k in hidden)
        all_small = all(counts[k] < threshold for k in hidden)
        if not (
            len(hidden) == 1
            or hidden_sum == len(hidden)
            or (all_small and hidden_sum == len(hidden) * (threshold - 1))
        ):
            return out, extra
        out[min(others, key=lambda k: (counts[k], str(k)))] = COMPLEMENTARY
        extra = True


def protect(counts: dict, threshold: int) -> tuple[dict, bool]:
    """:func:`protect_row` with every hidden count as None (whatever the reason)."""
    out, extra = protect_row(counts, threshold)
    return {k: (None if v in HIDDEN else v) for k, v in out.items()}, extra


# -- the summary row, revisions, optimistic locking ---------------------------------
def summary_for(consultation: Consultation) -> Summary:
    """The consultation's summary; a transient default one if none was saved yet."""
    summary = db.session.scalar(select(Summary).where(Summary.consultation_id == consultation.id))
    if summary is None:
        summary = Summary(
            consultation_id=consultation.id,
            privacy_threshold=Settings.privacy_threshold,
            migrant_min_percent=Settings.migrant_min_percent,
            dominance_max_percent=Settings.dominance_max_percent,
            revision=0,
        )
    return summary


def _ensure_saved(consultation: "Consultation | Summary") -> Summary:
    """The saved summary of a consultation (created when it has none yet); a national
    summary (a :class:`Summary`) is its own."""
    if isinstance(consultation, Summary):
        return consultation
    summary = db.session.scalar(select(Summary).where(Summary.consultation_id == consultation.id))
    if summary is not None:
        return summary
    try:
        with db.session.begin_nested():
            summary = Summary(consultation_id=consultation.id, revision=0)
            db.session.add(summary)
    except IntegrityError:  # created by someone else at the same moment
        summary = db.session.scalar(select(Summary).where(Summary.consultation_id == consultation.id))
    return summary


def _claim(summary: Summary, seen_revision) -> None:
    """Move the revision on, only if nobody else did since ``seen_revision``."""
    try:
        seen = int(seen_revision)
    except (TypeError, ValueError):
        raise SummaryConflict(_("This page is out of date. Reload it and try again.")) from None
    result = db.session.execute(
        update(Summary.__table__)
        .where(Summary.__table__.c.id == summary.id, Summary.__table__.c.revision == seen)
        .values(revision=Summary.__table__.c.revision + 1, updated_at=utcnow())
    )
    if result.rowcount != 1:
        raise SummaryConflict(
            _(
                "Someone else changed or published this summary since you opened this page. "
                "Reload it to see their changes, then try again."
            )
        )
    db.session.expire(summary, ["revision", "updated_at"])


def update_settings(
    consultation: "Consultation | Summary",
    *,
    seen_revision,
    privacy_threshold: int,
    migrant_min_percent: int,
    dominance_max_percent: int,
) -> Summary:
    values = {
        "privacy_threshold": (privacy_threshold, 1, 50),
        "migrant_min_percent": (migrant_min_percent, 0, 100),
        "dominance_max_percent": (dominance_max_percent, 1, 100),
    }
    for name, (value, low, high) in values.items():
        if not isinstance(value, int) or isinstance(value, bool) or not low <= value <= high:
            raise SummaryError(_("Give a whole number from %(low)s to %(high)s.", low=low, high=high), name)
    summary = _ensure_saved(consultation)
    if summary.is_national:
        _check_national_threshold(privacy_threshold, [c.id for c in summary.consultations])
    _claim(summary, seen_revision)
    summary.privacy_threshold = privacy_threshold
    summary.migrant_min_percent = migrant_min_percent
    summary.dominance_max_percent = dominance_max_percent
    db.session.flush()
    return summary


def effective_objectives(summary: Summary, sec: Section) -> list[int]:
    row = summary.section(sec.key) if summary.id else None
    override = row.override_numbers if row is not None else None
    return list(sec.default_objectives) if override is None else override


def update_section(
    consultation: "Consultation | Summary",
    key: str,
    *,
    seen_revision,
    text: str,
    objectives: list[int] | None,
) -> SummarySection:
    """Save a section's Markdown text and its objectives (None = the default mapping)."""
    sec = section(key)
    if sec is None:
        raise SummaryError(_("Unknown section of the questionnaire."))
    text = text or ""
    if len(text) > MAX_MARKDOWN_LENGTH:
        raise SummaryError(_("Keep the text under %(n)s characters.", n=MAX_MARKDOWN_LENGTH), "text")
    numbers = None
    if objectives is not None:
        numbers = sorted({int(n) for n in objectives})
        if any(not 1 <= n <= OBJECTIVE_COUNT for n in numbers):
            raise SummaryError(_("Unknown GCM objective."), "objectives")
        if tuple(numbers) == tuple(sorted(sec.default_objectives)):
            numbers = None
    summary = _ensure_saved(consultation)
    _claim(summary, seen_revision)
    row = db.session.get(SummarySection, (summary.id, key))
    if row is None:
        row = SummarySection(summary_id=summary.id, key=key)
        db.session.add(row)
    row.text_md = text
    row.text_html = render_markdown(text)
    row.objectives_override = None if numbers is None else ",".join(str(n) for n in numbers)
    db.session.flush()
    db.session.expire(summary, ["sections"])
    return row


def _proposal_filter(consultation_ids, objectives, kinds):
    return and_(
        Contribution.consultation_id.in_(consultation_ids),
        Contribution.status == "active",
        Contribution.kind.in_(kinds),
        Contribution.id.in_(
            select(ContributionObjective.contribution_id).where(ContributionObjective.objective.in_(objectives or [0]))
        ),
    )


PIN_ACTIONS = ("pin", "drop", "clear", "up", "down")


def summary_consultation_ids(summary: Summary) -> list[int]:
    """The consultations whose contributions a summary proposes: its own, or those a
    national summary compiles."""
    if not summary.is_national:
        return [summary.consultation_id]
    return list(
        db.session.scalars(
            select(summary_consultations.c.consultation_id).where(summary_consultations.c.summary_id == summary.id)
        )
    )


def _pinned_in_order(summary: Summary, key: str) -> list[SectionPin]:
    return list(
        db.session.scalars(
            select(SectionPin)
            .where(SectionPin.summary_id == summary.id, SectionPin.key == key, SectionPin.state == "pinned")
            .order_by(SectionPin.position, SectionPin.contribution_id)
        )
    )


def set_pin(consultation: "Consultation | Summary", key: str, contribution_id, action: str, *, seen_revision) -> None:
    """Pin a proposed contribution to a section (last in the order), drop it, clear
    either, or move a pinned one up or down the order ("up", "down")."""
    sec = section(key)
    if sec is None:
        raise SummaryError(_("Unknown section of the questionnaire."))
    if action not in PIN_ACTIONS:
        raise SummaryError(_("Choose pin, drop or clear."), "action")
    try:
        contribution_id = int(contribution_id)
    except (TypeError, ValueError):
        raise SummaryError(_("Choose a contribution."), "contribution_id") from None
    summary = _ensure_saved(consultation)
    objectives = effective_objectives(summary, sec)
    proposed = db.session.scalar(
        select(
            exists().where(
                Contribution.id == contribution_id,
                _proposal_filter(summary_consultation_ids(summary), objectives, sec.kinds),
            )
        )
    )
    pin = db.session.get(SectionPin, (summary.id, key, contribution_id))
    if not proposed and pin is None:
        raise SummaryError(_("This contribution is not among this section's proposals."), "contribution_id")
    if action in ("up", "down") and (pin is None or pin.state != "pinned"):
        raise SummaryError(_("Only a pinned contribution can be moved."), "contribution_id")
    _claim(summary, seen_revision)
    if action == "clear":
        if pin is not None:
            db.session.delete(pin)
    elif action in ("up", "down"):
        order = _pinned_in_order(summary, key)
        at = order.index(pin)
        to = at - 1 if action == "up" else at + 1
        if 0 <= to < len(order):
            order[at], order[to] = order[to], order[at]
        for position, row in enumerate(order):  # renumbered: older pins all had position 0
            row.position = position
    else:
        position = pin.position if pin is not None else 0
        if action == "pin" and (pin is None or pin.state != "pinned"):
            last = db.session.scalar(
                select(func.max(SectionPin.position)).where(
                    SectionPin.summary_id == summary.id, SectionPin.key == key, SectionPin.state == "pinned"
                )
            )
            position = 0 if last is None else last + 1
        if pin is None:
            pin = SectionPin(summary_id=summary.id, key=key, contribution_id=contribution_id)
            db.session.add(pin)
        pin.position = position
        pin.state = "pinned" if action == "pin" else "dropped"
    db.session.flush()


def draft_state(summary: Summary) -> dict:
    """The organiser's current narrative: {key: {text_md, text_html, objectives, pinned, dropped}}."""
    state = {}
    rows = list(summary.sections) if summary.id else []
    pins = (
        db.session.execute(
            select(SectionPin.key, SectionPin.contribution_id, SectionPin.state)
            .where(SectionPin.summary_id == summary.id)
            .order_by(SectionPin.key, SectionPin.position, SectionPin.contribution_id)
        ).all()
        if summary.id
        else []
    )
    for sec in review_sections():
        row = next((r for r in rows if r.key == sec.key), None)
        state[sec.key] = {
            "text_md": row.text_md if row else "",
            "text_html": row.text_html if row else "",
            "objectives": effective_objectives(summary, sec),
            "pinned": [p.contribution_id for p in pins if p.key == sec.key and p.state == "pinned"],
            "dropped": [p.contribution_id for p in pins if p.key == sec.key and p.state == "dropped"],
        }
    return state


def publish(consultation: "Consultation | Summary", publisher, *, seen_revision, note: str = "") -> SummaryVersion:
    """Freeze the current summary (a consultation's, or a national summary) as a new
    numbered version (raises SummaryConflict when someone else changed or published it
    first)."""
    national = consultation if isinstance(consultation, Summary) else None
    if national is None and consultation.state == "draft":
        raise SummaryError(_("Open the consultation before publishing its summary."))
    note = (note or "").strip()
    if len(note) > 300:
        raise SummaryError(_("Keep the note under 300 characters."), "note")
    summary = _ensure_saved(consultation)
    _claim(summary, seen_revision)
    number = (
        db.session.scalar(select(func.max(SummaryVersion.number)).where(SummaryVersion.summary_id == summary.id)) or 0
    ) + 1
    published_at = utcnow()
    if national is not None:
        compiled = compile_national_summary(national, status="published", version=number, published_at=published_at)
    else:
        state = draft_state(summary)
        compiled = compile_summary(
            [consultation],
            settings=Settings.of(summary),
            states={consultation.id: state},
            mapping={k: v["objectives"] for k, v in state.items()},
            status="published",
            version=number,
            published_at=published_at,
        )
    version = SummaryVersion(
        summary_id=summary.id,
        number=number,
        published_at=published_at,
        published_by_id=getattr(publisher, "id", None),
        note=note,
        document_json=json.dumps(compiled.document(), ensure_ascii=False),
    )
    db.session.add(version)
    db.session.flush()
    return version


def _of(target: "Consultation | Summary"):
    """The clause naming a consultation's summary, or a national summary itself."""
    if isinstance(target, Summary):
        return Summary.id == target.id
    return Summary.consultation_id == target.id


def versions_query(consultation: "Consultation | Summary"):
    return (
        select(SummaryVersion)
        .options(defer(SummaryVersion.document_json))
        .join(Summary, Summary.id == SummaryVersion.summary_id)
        .where(_of(consultation))
        .order_by(SummaryVersion.number.desc())
    )


def get_version(consultation: "Consultation | Summary", number: int) -> SummaryVersion | None:
    return db.session.scalar(
        select(SummaryVersion)
        .join(Summary, Summary.id == SummaryVersion.summary_id)
        .where(_of(consultation), SummaryVersion.number == number)
    )


def latest_version(consultation: "Consultation | Summary") -> SummaryVersion | None:
    return db.session.scalar(
        select(SummaryVersion)
        .join(Summary, Summary.id == SummaryVersion.summary_id)
        .where(_of(consultation))
        .order_by(SummaryVersion.number.desc())
        .limit(1)
    )


def published_states(consultation_ids) -> dict[int, dict]:
    """The narrative of each consultation's latest published version."""
    latest = (
        select(Summary.consultation_id, func.max(SummaryVersion.number).label("number"))
        .join(SummaryVersion, SummaryVersion.summary_id == Summary.id)
        .where(Summary.consultation_id.in_(consultation_ids))
        .group_by(Summary.consultation_id)
        .subquery()
    )
    rows = db.session.execute(
        select(Summary.consultation_id, SummaryVersion.document_json)
        .join(SummaryVersion, SummaryVersion.summary_id == Summary.id)
        .join(latest, and_(latest.c.consultation_id == Summary.consultation_id, latest.c.number == SummaryVersion.number))
    ).all()
    states = {}
    for consultation_id, document_json in rows:
        document = json.loads(document_json)
        states[consultation_id] = {
            s["key"]: {
                "text_md": next((n["text_md"] for n in s["narratives"]), ""),
                "text_html": next((n["text_html"] for n in s["narratives"]), ""),
                "objectives": s["objectives"],
                "pinned": [c["id"] for c in s["pinned"]],
                "dropped": s.get("dropped", []),
            }
            for s in document["sections"]
        }
    return states


# -- selection for national compilations --------------------------------------------
def resolve_selection(user, ids) -> list[Consultation]:
    """The consultations of a selection, in date order; refuses what the user may not read
    (404 when its existence is secret, 403 otherwise)."""
    wanted = sorted({int(i) for i in ids or ()})
    if not wanted:
        raise SelectionRefused(422, _("Choose at least one consultation."))
    if len(wanted) > MAX_SELECTION:
        raise SelectionRefused(422, _("Choose at most %(n)s consultations.", n=MAX_SELECTION))
    found = {c.id: c for c in db.session.scalars(select(Consultation).where(Consultation.id.in_(wanted)))}
    from ..permissions import can_view_consultation

    for cid in wanted:
        consultation = found.get(cid)
        if consultation is None or not can_view_consultation(user, consultation):
            raise SelectionRefused(404, _("The selection names a consultation that does not exist or that you may not see."))
        if not permissions.can_read_live_summary(user, consultation):
            raise SelectionRefused(403, _("You may not compile the summary of “%(title)s”.", title=consultation.title))
    return sorted(found.values(), key=lambda c: (c.opens_on, c.id))


def compilable_consultations(user):
    """What the user may put in a national compilation (a select, for a paginated list)."""
    from ..consultations.models import consultation_organisers

    stmt = select(Consultation)
    if user.role in ("admin", "reviewer"):
        stmt = stmt.where(Consultation.state != "draft")
        if user.role == "admin":
            stmt = select(Consultation)
    else:
        stmt = stmt.join(
            consultation_organisers, consultation_organisers.c.consultation_id == Consultation.id
        ).where(consultation_organisers.c.user_id == user.id)
    return stmt.order_by(Consultation.opens_on.desc(), Consultation.id.desc())


# -- statistics (SQL aggregation) -----------------------------------------------------
def _active(ids):
    return and_(Contribution.consultation_id.in_(ids), Contribution.status == "active")


def _group_category():
    """The group a contribution is counted in before protection: its stakeholder
    category, or ANONYMOUS for anonymous input (never broken down further)."""
    return case((Contribution.anonymous.is_(True), literal(ANONYMOUS)), else_=Contribution.stakeholder_category)


def _group_level():
    return case((Contribution.anonymous.is_(True), null()), else_=Contribution.governance_level)


@dataclass
class Protection:
    """What a compilation may name (the model in docs/summaries.md, "Privacy").

    The annex lists every contribution with its kind, objectives, language and voice, so
    any count of contributions can be recomputed from it: hiding such a count protects
    nobody. What is protected instead is who could be singled out by the voice a
    contribution is published with. A stakeholder category (or anonymous input) with
    fewer than ``threshold`` contributions in the compilation is not named anywhere in
    it: its contributions are counted, drawn and listed under "Other categories
    (combined)" (COMBINED). When that combined group would itself hold fewer than
    ``threshold`` contributions, the smallest named categories join it until it does
    (complementary). A governance level with fewer than ``threshold`` contributions in
    its category is not given. ``hidden`` says why each category is not named
    (PRIMARY or COMPLEMENTARY).
    """

    threshold: int
    counts: dict[str, int] = field(default_factory=dict)  # contributions per raw group
    hidden: dict[str, str] = field(default_factory=dict)  # raw group -> reason
    levels: set = field(default_factory=set)  # (raw group, level) pairs that are named

    def category(self, raw: str) -> str:
        return COMBINED if raw in self.hidden else raw

    def level(self, raw: str, level: str | None) -> str | None:
        if raw in self.hidden or level is None:
            return None
        return level if (raw, level) in self.levels else None

    def voice_key(self, raw: str, level: str | None) -> tuple[str, str | None]:
        return self.category(raw), self.level(raw, level)

    @property
    def applied(self) -> bool:
        return bool(self.hidden) or any(
            lvl is not None and (c, lvl) not in self.levels and c not in self.hidden for c, lvl in self._all_levels
        )

    @property
    def complementary(self) -> bool:
        return COMPLEMENTARY in self.hidden.values()

    _all_levels: set = field(default_factory=set)


def protection_for(ids, threshold: int, signature=None) -> Protection:
    """Decide, from the signature counts, which categories and levels the compilation
    names (see :class:`Protection`)."""
    if signature is None:
        signature = signature_counts(ids)
    counts: dict[str, int] = {}
    level_counts: dict[tuple, int] = {}
    for _kind, category, level, _mask, n in signature:
        counts[category] = counts.get(category, 0) + n
        if level is not None:
            level_counts[(category, level)] = level_counts.get((category, level), 0) + n
    hidden = {c: PRIMARY for c, n in counts.items() if 0 < n < threshold}
    named = [c for c, n in counts.items() if c not in hidden and n]
    while hidden and sum(counts[c] for c in hidden) < threshold and named:
        pick = min(named, key=lambda c: (counts[c], c))
        named.remove(pick)
        hidden[pick] = COMPLEMENTARY
    levels = {key for key, n in level_counts.items() if key[0] not in hidden and n >= threshold}
    return Protection(threshold, counts, hidden, levels, set(level_counts))


def signature_counts(ids) -> list[tuple[str, str, str | None, int, int]]:
    """Active contributions counted by (kind, group, governance level, objective set).

    The group is the stakeholder category, or ANONYMOUS for anonymous input. The
    objective set of a contribution is a bit mask (bit n for GCM objective n), summed
    per contribution in SQL; the outer GROUP BY leaves a few hundred rows, from which
    every count of the summary follows: by objective, kind and category, by voice, and the
    distinct contributions each questionnaire section proposes. One pass over the data.
    """
    mask = func.coalesce(func.sum(literal_column("1").op("<<")(ContributionObjective.objective)), 0)
    category, level = _group_category(), _group_level()
    per_contribution = (
        select(
            Contribution.kind,
            category.label("stakeholder_category"),
            level.label("governance_level"),
            mask.label("mask"),
        )
        .outerjoin(ContributionObjective, ContributionObjective.contribution_id == Contribution.id)
        .where(_active(ids))
        .group_by(Contribution.id, Contribution.kind, category, level)
        .subquery()
    )
    c = per_contribution.c
    stmt = select(c.kind, c.stakeholder_category, c.governance_level, c.mask, func.count()).group_by(
        c.kind, c.stakeholder_category, c.governance_level, c.mask
    )
    return [(k, cat, lvl, int(m), n) for k, cat, lvl, m, n in db.session.execute(stmt)]


def _bits(mask: int) -> list[int]:
    return [n for n in range(1, OBJECTIVE_COUNT + 1) if mask >> n & 1]


def attendance_counts(ids) -> list[tuple[str, str | None, int]]:
    """People present at the consultations' roundtables (the roundtables' own count)."""
    from ..roundtables.services import attendance_rows

    return attendance_rows(consultation_ids=ids)


def consultation_objective_counts(ids) -> dict[tuple[int, int], int]:
    stmt = (
        select(Contribution.consultation_id, ContributionObjective.objective, func.count())
        .join(ContributionObjective, ContributionObjective.contribution_id == Contribution.id)
        .where(_active(ids))
        .group_by(Contribution.consultation_id, ContributionObjective.objective)
    )
    return {(c, o): n for c, o, n in db.session.execute(stmt)}


def focus_rows(ids) -> list[tuple[int, int]]:
    return [
        tuple(r)
        for r in db.session.execute(
            select(ConsultationObjective.consultation_id, ConsultationObjective.objective).where(
                ConsultationObjective.consultation_id.in_(ids)
            )
        )
    ]


def section_proposal_counts(ids, mapping: dict[str, list[int]], dropped: dict[str, list[int]], signature=None) -> dict[str, int]:
    """Distinct contributions each section proposes (its objectives and kinds), minus
    those the organiser dropped, from the signature counts (no further scan)."""
    if signature is None:
        signature = signature_counts(ids)
    counts = {}
    for sec in review_sections():
        wanted = 0
        for number in mapping.get(sec.key, ()):
            wanted |= 1 << int(number)
        if not wanted:
            continue
        n = sum(count for kind, _, _, mask, count in signature if kind in sec.kinds and mask & wanted)
        if n:
            counts[sec.key] = n
    for key, ids_ in dropped.items():
        if ids_ and key in counts:
            sec = section(key)
            # Subtract the dropped ones that the section would have proposed (a small set).
            counts[key] -= db.session.scalar(
                select(func.count()).select_from(Contribution).where(
                    Contribution.id.in_(ids_), _proposal_filter(ids, mapping.get(key, []), sec.kinds)
                )
            )
    return counts


# -- contributions with provenance ----------------------------------------------------
_COLUMNS = (
    Contribution.id,
    Contribution.consultation_id,
    Contribution.kind,
    Contribution.title,
    Contribution.body_md,
    Contribution.body_html,
    Contribution.stakeholder_category,
    Contribution.governance_level,
    Contribution.organisation_name,
    Contribution.name_organisation,
    Contribution.on_behalf,
    Contribution.anonymous,
    Contribution.captured,
    Contribution.language,
    Contribution.created_at,
    Consultation.title.label("consultation_title"),
    Roundtable.title.label("roundtable_title"),
    Roundtable.starts_at.label("roundtable_starts_at"),
)


def _rows():
    """Contributions as plain rows with their provenance (no ORM identity map)."""
    return (
        select(*_COLUMNS)
        .join(Consultation, Consultation.id == Contribution.consultation_id)
        .outerjoin(Roundtable, Roundtable.id == Contribution.roundtable_id)
    )


@dataclass
class _Extras:
    """What an annex row needs beyond its own columns, for one batch of rows: three
    queries per batch (objectives, guiding principles, challenges answered), never one
    per row."""

    objectives: dict[int, list[int]]
    principles: dict[int, list[str]]
    answers: dict[int, list[dict]]

    @classmethod
    def of(cls, ids) -> "_Extras":
        ids = list(ids)
        principles: dict[int, list[str]] = {}
        answers: dict[int, list[dict]] = {}
        if ids:
            for cid, key in db.session.execute(
                select(ContributionPrinciple.contribution_id, ContributionPrinciple.principle)
                .where(ContributionPrinciple.contribution_id.in_(ids))
                .order_by(ContributionPrinciple.contribution_id, ContributionPrinciple.principle)
            ):
                principles.setdefault(cid, []).append(key)
            challenge = aliased(Contribution)
            for pid, chid, title in db.session.execute(
                select(proposal_answers.c.proposal_id, challenge.id, challenge.title)
                .join(challenge, challenge.id == proposal_answers.c.challenge_id)
                .where(proposal_answers.c.proposal_id.in_(ids), challenge.status == "active")
                .order_by(proposal_answers.c.proposal_id, challenge.id)
            ):
                answers.setdefault(pid, []).append({"id": chid, "title": title})
        return cls(_objectives_of(ids), principles, answers)


def _contribution_dict(r, extras: _Extras, protection: Protection | None = None) -> dict:
    """One contribution as every output lists it (the annex row).

    Besides the keys of the JSON schema (docs/summaries.md):
    - ``stakeholder_category`` / ``governance_level``: the voice as this compilation
      publishes it: COMBINED ("combined") for a category it does not name, ANONYMOUS
      ("anonymous") for anonymous input, the level None when it is not given; the
      statistics count the same keys, so the annex and the tables always agree.
    - ``voice``: the public voice (contributions/voice.py), e.g. "NGO",
      "Red Acoge — NGO" (named with consent), "Other, collected by Asociación X".
    - ``on_behalf`` / ``collected_by``: for input collected on behalf of people without an
      account, who collected it: the association's name when it agreed to be named, else
      "an association"; None for any other contribution. ``organisation`` is then None:
      the people who spoke have none.
    - ``captured``: heard in the room and written down by a facilitator.
    - ``language``: the code of the language it is written in ("es").
    - ``principles``: the GCM guiding principles' keys; ``answers``: for a proposal, the
      active challenges it answers, ``[{"id", "title"}]``.
    """
    raw = ANONYMOUS if r.anonymous else r.stakeholder_category
    raw_level = None if r.anonymous else r.governance_level
    category, level = protection.voice_key(raw, raw_level) if protection is not None else (raw, raw_level)
    named = bool(r.name_organisation and r.organisation_name and not r.anonymous)
    collected = collected_by(r.organisation_name, named=named, on_behalf=bool(r.on_behalf))
    organisation = r.organisation_name if (named and not r.on_behalf) else None
    return {
        "id": r.id,
        "url": f"/contributions/{r.id}",
        "consultation_id": r.consultation_id,
        "consultation": r.consultation_title,
        "roundtable": r.roundtable_title,
        "roundtable_date": r.roundtable_starts_at.date().isoformat() if r.roundtable_starts_at else None,
        "kind": r.kind,
        "kind_label": _(CONTRIBUTION_KINDS[r.kind]),
        "title": r.title,
        "body_md": r.body_md or "",
        "body_html": r.body_html or "",
        "objectives": extras.objectives.get(r.id, []),
        "stakeholder_category": category,
        "stakeholder_category_label": category_label(category),
        "governance_level": level,
        "governance_level_label": level_label(level) if level else None,
        "organisation": organisation,
        "voice": voice(
            category, level, organisation=r.organisation_name, named=named, on_behalf=bool(r.on_behalf),
            category_text=category_label(category) if category in (COMBINED, ANONYMOUS) else None,
        ),
        "on_behalf": collected,
        "collected_by": collected,
        "captured": bool(r.captured),
        "language": r.language,
        "principles": extras.principles.get(r.id, []),
        "answers": extras.answers.get(r.id, []),
        "created_on": r.created_at.date().isoformat(),
    }


def _objectives_of(ids) -> dict[int, list[int]]:
    out: dict[int, list[int]] = {}
    if not ids:
        return out
    for cid, number in db.session.execute(
        select(ContributionObjective.contribution_id, ContributionObjective.objective)
        .where(ContributionObjective.contribution_id.in_(ids))
        .order_by(ContributionObjective.contribution_id, ContributionObjective.objective)
    ):
        out.setdefault(cid, []).append(number)
    return out


def _load_options():
    return (joinedload(Contribution.consultation), joinedload(Contribution.roundtable))


def _dicts(rows, protection: Protection | None = None) -> list[dict]:
    extras = _Extras.of(r.id for r in rows)
    return [_contribution_dict(r, extras, protection) for r in rows]


def contribution_dicts(where, limit: int | None = None, protection: Protection | None = None) -> list[dict]:
    stmt = _rows().where(where).order_by(Contribution.id)
    if limit is not None:
        stmt = stmt.limit(limit)
    return _dicts(db.session.execute(stmt).all(), protection)


def iter_contributions(ids, kinds=None, batch: int = BATCH, protection: Protection | None = None) -> Iterator[dict]:
    """Every active contribution of the consultations, grouped by its first GCM objective
    (then by id), streamed in keyset batches: constant memory whatever the size. With
    ``protection``, each row carries the voice the compilation publishes."""
    lower = aliased(ContributionObjective)
    for number in range(1, OBJECTIVE_COUNT + 1):
        last = 0
        while True:
            stmt = (
                _rows()
                .join(
                    ContributionObjective,
                    and_(ContributionObjective.contribution_id == Contribution.id, ContributionObjective.objective == number),
                )
                .where(
                    _active(ids),
                    Contribution.id > last,
                    ~exists().where(lower.contribution_id == Contribution.id, lower.objective < number),
                )
                .order_by(Contribution.id)
                .limit(batch)
            )
            if kinds:
                stmt = stmt.where(Contribution.kind.in_(kinds))
            rows = db.session.execute(stmt).all()
            if not rows:
                break
            yield from _dicts(rows, protection)
            last = rows[-1].id
            if len(rows) < batch:
                break


def grouped_contributions_page(ids, *, page: int, per_page: int = 20, objective_number=None, kind=None):
    """One page of (objective, contribution) pairs, ordered by objective: the contributions
    grouped by objective, a contribution appearing under each of its objectives."""
    base = (
        select(ContributionObjective.objective, Contribution.id)
        .join(Contribution, Contribution.id == ContributionObjective.contribution_id)
        .where(_active(ids))
    )
    if objective_number:
        base = base.where(ContributionObjective.objective == objective_number)
    if kind in CONTRIBUTION_KINDS:
        base = base.where(Contribution.kind == kind)
    total = db.session.scalar(select(func.count()).select_from(base.subquery()))
    pages = max(1, math.ceil(total / per_page))
    page = min(max(page, 1), pages)
    pairs = db.session.execute(
        base.order_by(ContributionObjective.objective, Contribution.id).limit(per_page).offset((page - 1) * per_page)
    ).all()
    ids_ = sorted({cid for _, cid in pairs})
    by_id = {}
    if ids_:
        by_id = {
            c.id: c
            for c in db.session.scalars(
                select(Contribution)
                .where(Contribution.id.in_(ids_))
                .options(*_load_options(), selectinload(Contribution.objectives))
            ).unique()
        }
    items = [(number, by_id[cid]) for number, cid in pairs if cid in by_id]
    return Page(items=items, page=page, per_page=per_page, total=total)


def section_proposals_page(consultation: "Consultation | Summary", objectives, kinds, *, page: int, per_page: int = 20):
    """The contributions a section proposes (its objectives and kinds), one page; for a
    national summary, over the consultations it compiles."""
    ids = summary_consultation_ids(consultation) if isinstance(consultation, Summary) else [consultation.id]
    where = _proposal_filter(ids, objectives, kinds)
    total = db.session.scalar(select(func.count()).select_from(Contribution).where(where))
    result = Page(items=[], page=page, per_page=per_page, total=total)
    result.page = min(max(page, 1), result.pages)
    rows = db.session.execute(
        _rows().where(where).order_by(Contribution.id).limit(per_page).offset((result.page - 1) * per_page)
    ).all()
    result.items = _dicts(rows)
    return result


def pinned_dicts(ids) -> list[dict]:
    """The pinned contributions, in the order of ``ids`` (the order they are cited in)."""
    found = {d["id"]: d for d in contribution_dicts(Contribution.id.in_(ids))} if ids else {}
    return [found[i] for i in ids if i in found]


@dataclass
class Page:
    items: list
    page: int
    per_page: int
    total: int

    @property
    def pages(self) -> int:
        return max(1, math.ceil(self.total / self.per_page))

    @property
    def has_prev(self) -> bool:
        return self.page > 1

    @property
    def has_next(self) -> bool:
        return self.page < self.pages

    @property
    def prev_num(self) -> int:
        return self.page - 1

    @property
    def next_num(self) -> int:
        return self.page + 1


def page_of_list(items: list, page: int, per_page: int = 20) -> Page:
    pages = max(1, math.ceil(len(items) / per_page))
    page = min(max(page, 1), pages)
    return Page(items=items[(page - 1) * per_page : page * per_page], page=page, per_page=per_page, total=len(items))


# -- the compilation ------------------------------------------------------------------
@dataclass
class Compiled:
    """A compiled summary: ``meta`` holds everything but the contributions, which
    ``contributions()`` streams (from the database, or from a frozen version)."""

    meta: dict
    contributions: Callable[[], Iterator[dict]]
    good_practices: Callable[[], Iterator[dict]] = field(default=None)

    def document(self) -> dict:
        return {**self.meta, "contributions": list(self.contributions())}

    @classmethod
    def from_document(cls, document: dict) -> "Compiled":
        meta = {k: v for k, v in document.items() if k != "contributions"}
        items = document.get("contributions", [])
        return cls(
            meta=meta,
            contributions=lambda: iter(items),
            good_practices=lambda: (c for c in items if c["kind"] == "good_practice"),
        )


def _percent(n: int, total: int) -> float:
    return round(100.0 * n / total, 1) if total else 0.0


class _Publication:
    """Applies the privacy threshold to every published count that cannot be recomputed
    from the annex (attendance) and remembers whether it hid anything (primary) or hid a
    second count to protect a first (complementary)."""

    def __init__(self, threshold: int):
        self.threshold = threshold
        self.primary = False
        self.complementary = False

    def one(self, n: int):
        shown = suppress(n, self.threshold)
        self.primary |= shown in HIDDEN
        return shown

    def row(self, counts: dict) -> dict:
        shown, extra = protect_row(counts, self.threshold)
        self.primary |= any(0 < n < self.threshold for n in counts.values())
        self.complementary |= extra
        return shown


def _migrant_warning(measure: str, percent: float | None, small: bool, threshold: int, minimum: int) -> str:
    # Whole sentences for each case, so that translators never assemble fragments. A
    # hidden share is never quoted; "fewer than 3" only when it is true.
    if measure == "contributions":
        if percent is not None:
            return _(
                "Migrant and diaspora associations together account for %(percent)s%% of contributions, "
                "below the %(minimum)s%% threshold.", percent=percent, minimum=minimum,
            )
        if small:
            return _(
                "Migrant and diaspora associations together account for fewer than %(t)s contributions, "
                "below the %(minimum)s%% threshold.", t=threshold, minimum=minimum,
            )
        return _(
            "Migrant and diaspora associations together account for less than %(minimum)s%% of contributions "
            "(the exact share is not published, to protect a small count).", minimum=minimum,
        )
    if percent is not None:
        return _(
            "Migrant and diaspora associations together account for %(percent)s%% of attendance, "
            "below the %(minimum)s%% threshold.", percent=percent, minimum=minimum,
        )
    if small:
        return _(
            "Migrant and diaspora associations together account for fewer than %(t)s of the people attending, "
            "below the %(minimum)s%% threshold.", t=threshold, minimum=minimum,
        )
    return _(
        "Migrant and diaspora associations together account for less than %(minimum)s%% of attendance "
        "(the exact share is not published, to protect a small count).", minimum=minimum,
    )


def _dominance_warning(measure: str, label: str | None, percent: float | None, maximum: int) -> str:
    if label is None:  # a category this summary does not name: neither its name nor its share
        if measure == "contributions":
            return _("A stakeholder category that this summary does not name accounts for more than %(maximum)s%% of contributions.", maximum=maximum)
        return _("A stakeholder category that this summary does not name accounts for more than %(maximum)s%% of attendance.", maximum=maximum)
    if percent is None:  # its count is not published: say "more than", not how much
        if measure == "contributions":
            return _("%(category)s account for more than %(maximum)s%% of contributions.", category=label, maximum=maximum)
        return _("%(category)s account for more than %(maximum)s%% of attendance.", category=label, maximum=maximum)
    if measure == "contributions":
        return _(
            "%(category)s account for %(percent)s%% of contributions, above the %(maximum)s%% threshold.",
            category=label, percent=percent, maximum=maximum,
        )
    return _(
        "%(category)s account for %(percent)s%% of attendance, above the %(maximum)s%% threshold.",
        category=label, percent=percent, maximum=maximum,
    )


def _warnings(counts: dict[str, int], published: dict, settings: Settings, measure: str, named=None) -> list[dict]:
    """Representation warnings over raw ``counts`` by category. ``published`` is the
    row as published (a reason for a hidden count); ``named(category)`` says whether the
    summary may name a category at all (contributions: not when it is combined)."""
    t = settings.privacy_threshold
    total = sum(counts.values())
    if not total:
        return []
    named = named or (lambda category: True)
    out = []
    md = sum(counts.get(k, 0) for k in MIGRANT_CATEGORIES)
    if 100.0 * md / total < settings.migrant_min_percent:
        # The share only when each part of it is published: with one part hidden,
        # the share and the other part would give it back.
        shown = all(not is_hidden(published.get(k, 0)) for k in MIGRANT_CATEGORIES)
        percent = _percent(md, total) if shown else None
        out.append(
            {
                "measure": measure,
                "kind": "migrant_diaspora_low",
                "percent": percent,
                "threshold": settings.migrant_min_percent,
                "message": _migrant_warning(measure, percent, 0 < md < t, t, settings.migrant_min_percent),
            }
        )
    top_key, top_n = max(counts.items(), key=lambda kv: (kv[1], kv[0]))
    if 100.0 * top_n / total > settings.dominance_max_percent:
        may_name = named(top_key)
        percent = _percent(top_n, total) if (may_name and not is_hidden(published.get(top_key))) else None
        out.append(
            {
                "measure": measure,
                "kind": "dominance",
                "category": top_key if may_name else None,
                "percent": percent,
                "threshold": settings.dominance_max_percent,
                "message": _dominance_warning(
                    measure, category_label(top_key) if may_name else None, percent, settings.dominance_max_percent
                ),
            }
        )
    return out


def suppression_note(threshold: int, applied: bool, complementary: bool) -> str:
    """The sentence every output carries about what is not published."""
    note = _(
        "Counts from 1 to %(below)s are not published so that no contributor or participant can be "
        "singled out: a stakeholder category with fewer than %(t)s contributions is not named (its "
        "contributions are counted under “Other categories (combined)” in every table, chart and in "
        "the annex), and attendance counts below %(t)s are shown as “<%(t)s”, without a share.",
        below=threshold - 1, t=threshold,
    )
    if applied:
        note += " " + _("Some figures in this summary are protected in this way.")
    if complementary:
        note += " " + _(
            "Where a single hidden count could have been worked out from a total, "
            "a second count of the same row was hidden too (shown as “×”: its true value may be large)."
        )
    return note


def _group_order(key: str) -> int:
    order = [*STAKEHOLDER_CATEGORIES, ANONYMOUS, COMBINED]
    return order.index(key) if key in order else len(order)


def compile_statistics(consultations: list[Consultation], settings: Settings, signature=None,
                       protection: Protection | None = None) -> dict:
    """Every count of the summary, by SQL aggregation, protected as in :class:`Protection`.

    Counts of contributions (by kind, objective, language, consultation, voice) are all
    published, because the annex lists each contribution: what is protected is the
    category, so a category with fewer than ``threshold`` contributions is counted under
    COMBINED everywhere. Attendance (not in the annex) is suppressed cell by cell:
    a hidden cell is PRIMARY or COMPLEMENTARY, never a number.
    (``_signature`` and ``_protection`` are for :func:`compile_sections` and the annex:
    pop them before the dictionary goes anywhere.)

    Keys beyond the JSON schema: ``representation.*.shares`` and the ``categories`` of
    ``by_objective`` also have a row/key ``"anonymous"`` and ``"combined"`` when the
    compilation has such contributions (a category's own row then holds the reason it is
    not named); ``suppression.markers`` lists the markers used (PRIMARY, COMPLEMENTARY)
    and ``suppression.notes`` gives {marker: note} from :func:`marker_notes`.
    """
    ids = [c.id for c in consultations]
    t = settings.privacy_threshold
    pub = _Publication(t)

    if signature is None:
        signature = signature_counts(ids)
    if protection is None:
        protection = protection_for(ids, t, signature)
    by_objective: dict[int, dict] = {}
    kinds = {k: 0 for k in CONTRIBUTION_KINDS}
    by_category: dict[str, int] = {}  # raw groups
    by_voice: dict[tuple, int] = {}  # published (category, level)
    for kind, category, level, mask, n in signature:
        kinds[kind] += n
        by_category[category] = by_category.get(category, 0) + n
        key = protection.voice_key(category, level)
        by_voice[key] = by_voice.get(key, 0) + n
        published_category = key[0]
        for number in _bits(mask):
            row = by_objective.setdefault(number, {"total": 0, "kinds": {}, "categories": {}})
            row["total"] += n
            row["kinds"][kind] = row["kinds"].get(kind, 0) + n
            row["categories"][published_category] = row["categories"].get(published_category, 0) + n
    groups = list(STAKEHOLDER_CATEGORIES)
    if by_category.get(ANONYMOUS):
        groups.append(ANONYMOUS)
    if protection.hidden:
        groups.append(COMBINED)

    def categories_row(counts: dict) -> dict:
        return {
            key: protection.hidden[key] if key in protection.hidden else counts.get(key, 0)
            for key in groups
        }

    objective_rows = []
    for o in range(1, OBJECTIVE_COUNT + 1):
        row = by_objective.get(o, {"total": 0, "kinds": {}, "categories": {}})
        objective_rows.append(
            {
                "objective": o,
                "title": objective(o).title,
                "total": row["total"],
                "kinds": {k: row["kinds"].get(k, 0) for k in CONTRIBUTION_KINDS},
                "categories": categories_row(row["categories"]),
            }
        )

    total = sum(kinds.values())
    combined_total = sum(n for c, n in by_category.items() if c in protection.hidden)
    contrib_published = categories_row({**by_category, COMBINED: combined_total})
    contrib_repr = {
        "total": total,
        "shares": [
            {
                "category": key,
                "label": category_label(key),
                "count": contrib_published[key],
                "percent": None if is_hidden(contrib_published[key]) else _percent(contrib_published[key], total),
            }
            for key in groups
        ],
    }
    contrib_warnings = _warnings(by_category, contrib_published, settings, "contributions",
                                 named=lambda c: c not in protection.hidden)

    attendance = attendance_counts(ids)
    att_category: dict[str, int] = {}
    for category, level, n in attendance:
        att_category[category] = att_category.get(category, 0) + n
    attendance_total = sum(att_category.values())
    att_published = pub.row({key: att_category.get(key, 0) for key in STAKEHOLDER_CATEGORIES})
    att_published.update({key: 0 for key in groups if key not in att_published})
    att_repr = {
        "total": pub.one(attendance_total),
        "shares": [
            {
                "category": key,
                "label": category_label(key),
                "count": att_published[key],
                "percent": None if is_hidden(att_published[key]) else _percent(att_published[key], attendance_total),
            }
            for key in groups
        ],
    }
    att_warnings = _warnings(att_category, att_published, settings, "attendance")

    def attendance_rows(counts: dict[tuple, int]) -> list[dict]:
        # The levels of one category add up to the category's count in the shares table:
        # one row each. A category whose count is hidden there has all its levels hidden,
        # or adding them up would give it back.
        published: dict[tuple, object] = {}
        for category in {c for c, _ in counts}:
            row = {key: n for key, n in counts.items() if key[0] == category}
            if is_hidden(att_published.get(category)):
                published.update({key: att_published[category] for key in row})
            else:
                published.update(pub.row(row))
        return _voice_rows(published)

    def _voice_rows(published: dict[tuple, object]) -> list[dict]:
        return [
            {
                "category": c,
                "category_label": category_label(c),
                "governance_level": lvl,
                "governance_level_label": level_label(lvl) if lvl else None,
                "count": published[(c, lvl)],
            }
            for (c, lvl) in sorted(published, key=lambda key: (_group_order(key[0]), key[1] or ""))
        ]

    per_consultation = consultation_objective_counts(ids)
    focus = focus_rows(ids)
    missing: dict[int, list[int]] = {}
    for cid, number in focus:
        if per_consultation.get((cid, number), 0) == 0:
            missing.setdefault(number, []).append(cid)
    focus_without_input = [
        {"objective": n, "title": objective(n).title, "consultation_ids": sorted(cids)}
        for n, cids in sorted(missing.items())
    ]
    comparison = {"consultation_ids": ids, "rows": []}
    for o in range(1, OBJECTIVE_COUNT + 1):
        comparison["rows"].append(
            {"objective": o, "title": objective(o).title, "counts": [per_consultation.get((cid, o), 0) for cid in ids]}
        )

    from ..contributions.services import contributions_by_language

    languages = contributions_by_language(ids)
    by_language = [
        {"language": code, "label": _(LANGUAGES[code]) if code in LANGUAGES else code, "count": languages[code]}
        for code in sorted(languages, key=lambda code: (-languages[code], code))
    ]

    titles = {c.id: c.title for c in consultations}
    focus_by_consultation = [
        {"consultation_id": cid, "consultation": titles[cid],
         "objectives": sorted(n for n, cids in missing.items() if cid in cids)}
        for cid in ids
        if any(cid in cids for cids in missing.values())
    ]
    composition_warnings = council_warnings([c for c in consultations if c.kind == "local_council"], settings)

    totals = {"contributions": total, **kinds, "attendance": pub.one(attendance_total)}
    applied = protection.applied or pub.primary or pub.complementary
    complementary = protection.complementary or pub.complementary
    participation = {
        "contributions": _voice_rows(by_voice),
        "attendance": attendance_rows({(c, lvl): n for c, lvl, n in attendance}),
    }
    every_cell = [
        *(s["count"] for s in contrib_repr["shares"]), *(s["count"] for s in att_repr["shares"]),
        *(r["count"] for r in participation["attendance"]), att_repr["total"],
    ]
    return {
        "totals": totals,
        "by_objective": objective_rows,
        "by_language": by_language,
        "focus_without_input": focus_without_input,
        # Per consultation, the objectives it focuses on that received no input:
        # [{"consultation_id", "consultation", "objectives": [numbers]}], only those with some.
        "focus_without_input_by_consultation": focus_by_consultation,
        "participation": participation,
        "representation": {
            "contributions": contrib_repr,
            "attendance": att_repr,
            # measure "composition": a standing council's current members (one warning per
            # council, with "consultation_id"), same thresholds as the other two.
            "warnings": contrib_warnings + att_warnings + composition_warnings,
        },
        "comparison": comparison,
        "voice_comparison": voice_comparison(signature, protection),
        "suppression": {
            "threshold": t,
            "applied": applied,
            "complementary": complementary,
            "combined": bool(protection.hidden),
            "markers": markers_used(every_cell),
            "notes": marker_notes(t),
            "note": suppression_note(t, applied, complementary),
        },
        "empty": total == 0,
        "_signature": signature,
        "_protection": protection,
    }


def voice_comparison(signature, protection: Protection) -> dict:
    """Administrations (by governance level) against civil society (by category), by
    GCM objective: what an inter-administration day and a civil-society day each said.

    ``columns``: [{"side": "administrations" | "civil_society", "category", "governance_level",
    "label"}], only those with contributions; ``rows``: [{"objective", "title", "counts"}] in
    the order of the columns (a contribution counted under each of its objectives);
    ``totals``: contributions per column (each once). Voices as the compilation publishes
    them (a category it does not name is in the "combined" column, with civil society), so
    every figure can be recomputed from the annex.
    """
    per_column: dict[tuple, int] = {}
    per_objective: dict[tuple, int] = {}
    for _kind, category, level, mask, n in signature:
        published, lvl = protection.voice_key(category, level)
        key = (published, lvl if published == "public_administration" else None)
        per_column[key] = per_column.get(key, 0) + n
        for number in _bits(mask):
            per_objective[(key, number)] = per_objective.get((key, number), 0) + n
    levels = [*GOVERNANCE_LEVELS, None]
    admin = [("public_administration", lvl) for lvl in levels if per_column.get(("public_administration", lvl))]
    civil = sorted((k for k in per_column if k[0] != "public_administration" and per_column[k]), key=lambda k: _group_order(k[0]))
    columns = [
        {"side": "administrations", "category": c, "governance_level": lvl,
         "label": level_label(lvl) if lvl else _("Level not given")}
        for c, lvl in admin
    ] + [
        {"side": "civil_society", "category": c, "governance_level": None, "label": category_label(c)}
        for c, _lvl in civil
    ]
    keys = admin + civil
    return {
        "columns": columns,
        "rows": [
            {"objective": o, "title": objective(o).title, "counts": [per_objective.get((k, o), 0) for k in keys]}
            for o in range(1, OBJECTIVE_COUNT + 1)
        ],
        "totals": [per_column[k] for k in keys],
    }


def council_warnings(councils: list[Consultation], settings: Settings) -> list[dict]:
    """Representation warnings on the composition of standing councils: their current
    members (observers aside) by the category of their organisation, one GROUP BY.
    Membership is public (the council's members page), so shares are quoted."""
    if not councils:
        return []
    from ..organisations.models import Organisation
    from ..roundtables.models import CouncilMember
    from ..timeutil import today

    rows = db.session.execute(
        select(CouncilMember.consultation_id, Organisation.category, func.count())
        .join(Organisation, Organisation.id == CouncilMember.organisation_id)
        .where(
            CouncilMember.consultation_id.in_([c.id for c in councils]),
            CouncilMember.status == "member",
            CouncilMember.joined_on <= today(),
            (CouncilMember.left_on.is_(None)) | (CouncilMember.left_on >= today()),
        )
        .group_by(CouncilMember.consultation_id, Organisation.category)
    ).all()
    by_council: dict[int, dict[str, int]] = {}
    for cid, category, n in rows:
        by_council.setdefault(cid, {})[category] = n
    out = []
    for council in councils:
        counts = by_council.get(council.id)
        if not counts:
            continue
        total = sum(counts.values())
        md = sum(counts.get(k, 0) for k in MIGRANT_CATEGORIES)
        if 100.0 * md / total < settings.migrant_min_percent:
            out.append({
                "measure": "composition", "kind": "migrant_diaspora_low", "consultation_id": council.id,
                "percent": _percent(md, total), "threshold": settings.migrant_min_percent,
                "message": _(
                    "%(council)s: migrant and diaspora associations are %(n)s of its %(total)s members "
                    "(%(percent)s%%), below the %(minimum)s%% threshold.",
                    council=council.title, n=md, total=total, percent=_percent(md, total),
                    minimum=settings.migrant_min_percent,
                ),
            })
        top_key, top_n = max(counts.items(), key=lambda kv: (kv[1], kv[0]))
        if 100.0 * top_n / total > settings.dominance_max_percent:
            out.append({
                "measure": "composition", "kind": "dominance", "consultation_id": council.id, "category": top_key,
                "percent": _percent(top_n, total), "threshold": settings.dominance_max_percent,
                "message": _(
                    "%(council)s: %(category)s are %(n)s of its %(total)s members (%(percent)s%%), "
                    "above the %(maximum)s%% threshold.",
                    council=council.title, category=category_label(top_key), n=top_n, total=total,
                    percent=_percent(top_n, total), maximum=settings.dominance_max_percent,
                ),
            })
    return out


def compile_sections(
    consultations: list[Consultation],
    *,
    states: dict[int, dict],
    mapping: dict[str, list[int]],
    with_proposals: bool = True,
    signature=None,
    protection: Protection | None = None,
    own: dict | None = None,
    own_label: str = "",
) -> list[dict]:
    """The review questionnaire's sections. ``own`` is a national summary's draft state
    (see :func:`draft_state`): its narrative comes first (under ``own_label``, with
    ``consultation_id`` None), and its pins, drops and order replace the consultations'."""
    ids = [c.id for c in consultations]
    titles = {c.id: c.title for c in consultations}
    dropped: dict[str, list[int]] = {}
    pinned: dict[str, list[int]] = {}
    for state in ([own] if own is not None else states.values()):
        for key, s in state.items():
            dropped.setdefault(key, []).extend(s.get("dropped", []))
            pinned.setdefault(key, []).extend(s.get("pinned", []))
    counts = section_proposal_counts(ids, mapping, dropped, signature)
    all_pinned = sorted({i for v in pinned.values() for i in v})
    pinned_dicts = {
        d["id"]: d
        for d in (contribution_dicts(and_(Contribution.id.in_(all_pinned), _active(ids)), protection=protection) if all_pinned else [])
    }
    out = []
    for sec in review_sections():
        objectives = mapping.get(sec.key, list(sec.default_objectives))
        first = (
            [{"consultation_id": None, "consultation": own_label,
              "text_md": own[sec.key]["text_md"], "text_html": own[sec.key]["text_html"]}]
            if own is not None and own[sec.key]["text_md"]
            else []
        )
        narratives = first + [
            {
                "consultation_id": cid,
                "consultation": titles[cid],
                "text_md": states[cid][sec.key]["text_md"],
                "text_html": states[cid][sec.key]["text_html"],
            }
            for cid in ids
            if cid in states and sec.key in states[cid] and states[cid][sec.key]["text_md"]
        ]
        pinned_here = [pinned_dicts[i] for i in pinned.get(sec.key, []) if i in pinned_dicts]
        proposed = []
        if with_proposals and counts.get(sec.key) and not pinned_here:
            exclude = dropped.get(sec.key, [])
            where = _proposal_filter(ids, objectives, sec.kinds)
            if exclude:
                where = and_(where, Contribution.id.notin_(exclude))
            proposed = contribution_dicts(where, limit=PROPOSALS_PER_SECTION_IN_DOCUMENTS, protection=protection)
        out.append(
            {
                "key": sec.key,
                "label": section_label(sec.key),
                "question": _(sec.question),
                "is_item": sec.is_item,
                "objectives": objectives,
                "kinds": list(sec.kinds),
                "narratives": narratives,
                "pinned": pinned_here,
                "dropped": sorted(set(dropped.get(sec.key, []))),
                "proposed_count": counts.get(sec.key, 0),
                "proposed": proposed,
            }
        )
    return out


def compile_summary(
    consultations: list[Consultation],
    *,
    settings: Settings,
    states: dict[int, dict],
    mapping: dict[str, list[int]] | None = None,
    status: str = "live",
    version: int | None = None,
    published_at=None,
    title: str | None = None,
    own: dict | None = None,
) -> Compiled:
    """The whole summary of one or several consultations (``own``: a national summary's
    draft state, see :func:`compile_sections`)."""
    ids = [c.id for c in consultations]
    if mapping is None:
        mapping = {s.key: list(s.default_objectives) for s in review_sections()}
    if title is None:
        title = (
            _("Summary: %(title)s", title=consultations[0].title)
            if len(consultations) == 1
            else _("National compilation of %(n)s consultations", n=len(consultations))
        )
    meta = {
        "schema": SCHEMA,
        "title": title,
        "status": status,
        "version": version,
        "published_at": published_at.isoformat(timespec="seconds") if published_at else None,
        "generated_at": utcnow().isoformat(timespec="seconds"),
        "consultations": [
            {
                "id": c.id,
                "title": c.title,
                "kind": c.kind,
                "kind_label": _(CONSULTATION_KINDS[c.kind]) if c.kind in CONSULTATION_KINDS else c.kind,
                "territory": c.territory,
                "opens_on": c.opens_on.isoformat(),
                "closes_on": c.closes_on.isoformat(),
                "state": c.state,
                "url": f"/consultations/{c.id}",
            }
            for c in consultations
        ],
        "settings": settings.as_dict(),
    }
    stats = compile_statistics(consultations, settings)
    signature = stats.pop("_signature")
    protection = stats.pop("_protection")
    meta.update(stats)
    meta["sections"] = compile_sections(
        consultations, states=states, mapping=mapping, signature=signature, protection=protection,
        own=own, own_label=_("National summary") if own is not None else "",
    )
    return Compiled(
        meta=meta,
        contributions=lambda: iter_contributions(ids, protection=protection),
        good_practices=lambda: iter_contributions(ids, kinds=("good_practice",), protection=protection),
    )


def compile_for_viewer(consultation: Consultation, user) -> Compiled:
    """The live summary as this person may read it: the draft narrative for its
    organisers, the last published narrative for reviewers."""
    summary = summary_for(consultation)
    if permissions.can_manage_summary(user, consultation):
        state = draft_state(summary)
        return compile_summary(
            [consultation],
            settings=Settings.of(summary),
            states={consultation.id: state},
            mapping={k: v["objectives"] for k, v in state.items()},
            status="draft",
        )
    states = published_states([consultation.id])
    return compile_summary(
        [consultation],
        settings=Settings.of(summary),
        states=states,
        mapping=({k: v["objectives"] for k, v in states[consultation.id].items()} if states else None),
        status="live",
    )


def compile_national(consultations: list[Consultation], settings: Settings | None = None) -> Compiled:
    """A national compilation: the published narrative of each consultation, the
    default objective mapping, the strictest privacy threshold of the selection."""
    ids = [c.id for c in consultations]
    if settings is None:
        settings = Settings(privacy_threshold=strictest_threshold(ids))
    return compile_summary(
        consultations,
        settings=settings,
        states=published_states(ids),
        status="live",
    )


# -- national summaries (saved by reviewers) --------------------------------------------
def strictest_threshold(consultation_ids) -> int:
    """The privacy threshold a compilation of these consultations uses at least: the
    strictest saved by their organisers (never below the default)."""
    saved = db.session.scalars(select(Summary.privacy_threshold).where(Summary.consultation_id.in_(list(consultation_ids))))
    return max([Settings.privacy_threshold, *saved])


def _check_national_threshold(threshold: int, consultation_ids) -> None:
    floor = strictest_threshold(consultation_ids)
    if threshold < floor:
        raise SummaryError(
            _("The selected consultations publish no count below %(n)s: give %(n)s or more.", n=floor),
            "privacy_threshold",
        )


def _national_title(title: str) -> str:
    title = (title or "").strip()
    if not title:
        raise SummaryError(_("Give the national summary a title."), "title")
    if len(title) > 200:
        raise SummaryError(_("Keep the title under 200 characters."), "title")
    return title


def _national_selection(user, consultation_ids) -> list[Consultation]:
    """resolve_selection, its refusals as an error on the form's field (the message never
    names a consultation the person may not see)."""
    try:
        return resolve_selection(user, consultation_ids)
    except SelectionRefused as exc:
        raise SummaryError(str(exc), "c") from None


def create_national(
    user, *, title: str, consultation_ids, privacy_threshold: int | None = None,
    migrant_min_percent: int = Settings.migrant_min_percent,
    dominance_max_percent: int = Settings.dominance_max_percent,
) -> Summary:
    """A new national summary over consultations the user may compile (raises
    SummaryError for bad input or a consultation they may not compile). The privacy
    threshold defaults to, and may not go below, the strictest of the selection."""
    title = _national_title(title)
    consultations = _national_selection(user, consultation_ids)
    if privacy_threshold is None:
        privacy_threshold = strictest_threshold([c.id for c in consultations])
    summary = Summary(consultation_id=None, title=title, created_by_id=getattr(user, "id", None), revision=0)
    summary.consultations = consultations
    db.session.add(summary)
    db.session.flush()
    update_settings(
        summary, seen_revision=0, privacy_threshold=privacy_threshold,
        migrant_min_percent=migrant_min_percent, dominance_max_percent=dominance_max_percent,
    )
    return summary


def update_national(
    summary: Summary, user, *, seen_revision, title: str, consultation_ids,
    privacy_threshold: int, migrant_min_percent: int, dominance_max_percent: int,
) -> Summary:
    """Change a national summary's title, selection and settings (optimistic locking as
    every other change); pins to contributions of a consultation taken out stay, unused,
    until it is put back."""
    title = _national_title(title)
    consultations = _national_selection(user, consultation_ids)
    summary.consultations = consultations
    db.session.flush()
    update_settings(
        summary, seen_revision=seen_revision, privacy_threshold=privacy_threshold,
        migrant_min_percent=migrant_min_percent, dominance_max_percent=dominance_max_percent,
    )
    summary.title = title
    db.session.flush()
    return summary


def national_summaries_query():
    """Every saved national summary, the most recently changed first (for a paginated list)."""
    return select(Summary).where(Summary.consultation_id.is_(None)).order_by(Summary.updated_at.desc(), Summary.id.desc())


def get_national(summary_id: int) -> Summary | None:
    return db.session.scalar(select(Summary).where(Summary.id == summary_id, Summary.consultation_id.is_(None)))


def national_consultations(summary: Summary) -> list[Consultation]:
    return sorted(summary.consultations, key=lambda c: (c.opens_on, c.id))


def compile_national_summary(summary: Summary, *, status: str = "draft", version: int | None = None,
                             published_at=None) -> Compiled:
    """A saved national summary: its title, settings and objective mapping, the reviewers'
    narrative first in each section and their pins, drops and order; the published
    narrative of each consultation after it."""
    consultations = national_consultations(summary)
    state = draft_state(summary)
    return compile_summary(
        consultations,
        settings=Settings.of(summary),
        states=published_states([c.id for c in consultations]),
        mapping={k: v["objectives"] for k, v in state.items()},
        status=status,
        version=version,
        published_at=published_at,
        title=summary.title,
        own=state,
    )
