"""Roundtables: meetings of a consultation, registration with a waiting list,
attendance, minutes, capture from the room, continuity of challenges, standing bodies."""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, time, timezone
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlalchemy import func, literal, or_, select, union_all, update
from sqlalchemy.exc import IntegrityError

from .. import permissions
from ..accounts.models import User
from ..consultations.models import Consultation
from ..contributions.models import Contribution, ContributionObjective
from ..contributions.services import ContributionError, clean_fields, clean_language
from ..extensions import db
from ..markdown import render_markdown
from ..organisations.models import Organisation
from ..reference import GOVERNANCE_LEVELS, OBJECTIVE_COUNT, STAKEHOLDER_CATEGORIES
from ..timeutil import today, utcnow
from .models import (
    MEMBER_STATUSES,
    MODES,
    ChallengeDiscussion,
    CouncilMember,
    Registration,
    Roundtable,
    RoundtableObjective,
    WalkIn,
)
from flask_babel import gettext as _


class RoundtableError(ValueError):
    def __init__(self, message: str, field: str | None = None):
        super().__init__(message)
        self.field = field


# -- times --------------------------------------------------------------------

def zone(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise RoundtableError(_("Unknown time zone."), "timezone") from exc


def to_utc(day: date, moment: time, tz: str) -> datetime:
    """A local date and time in ``tz`` as a naive UTC datetime (how times are stored)."""
    local = datetime.combine(day, moment).replace(tzinfo=zone(tz))
    return local.astimezone(timezone.utc).replace(tzinfo=None)


def now() -> datetime:
    return utcnow()


# -- roundtables --------------------------------------------------------------

def _apply(
    roundtable: Roundtable,
    *,
    title: str,
    day: date,
    start: time,
    end: time,
    tz: str = "Europe/Madrid",
    mode: str = "in_person",
    place: str = "",
    meeting_link: str = "",
    agenda: str = "",
    capacity: int | None = None,
    registration_closes: datetime | None = None,
    focus=(),
    facilitators: list[User] | None = None,
) -> Roundtable:
    title = (title or "").strip()
    if not title:
        raise RoundtableError(_("Give the roundtable a title."), "title")
    if mode not in MODES:
        raise RoundtableError(_("Choose in person, online or hybrid."), "mode")
    if end <= start:
        raise RoundtableError(_("The end time must be after the start time."), "end")
    if capacity is not None and capacity < 0:
        raise RoundtableError(_("Capacity cannot be negative."), "capacity")
    numbers = {int(n) for n in focus}
    if any(not 1 <= n <= OBJECTIVE_COUNT for n in numbers):
        raise RoundtableError(_("Unknown GCM objective."), "focus")
    starts_at, ends_at = to_utc(day, start, tz), to_utc(day, end, tz)
    closes_at = None
    if registration_closes is not None:
        closes_at = to_utc(registration_closes.date(), registration_closes.time(), tz)
        if closes_at > ends_at:
            raise RoundtableError(_("Registration must close before the roundtable ends."), "registration_closes_on")
    if capacity is not None and roundtable.seats_taken > capacity:
        raise RoundtableError(
            _("%(count)s people already hold a seat: the capacity cannot be lower.", count=roundtable.seats_taken), "capacity"
        )
    roundtable.title = title
    roundtable.starts_at, roundtable.ends_at = starts_at, ends_at
    roundtable.timezone = tz
    roundtable.mode = mode
    roundtable.place = (place or "").strip()
    roundtable.meeting_link = (meeting_link or "").strip()
    roundtable.agenda_md = agenda or ""
    roundtable.agenda_html = render_markdown(agenda or "")
    roundtable.capacity = capacity
    roundtable.registration_closes_at = closes_at
    existing = {f.objective: f for f in roundtable.focus}
    roundtable.focus = [existing.get(n) or RoundtableObjective(objective=n) for n in sorted(numbers)]
    roundtable.facilitators = list(facilitators or [])
    return roundtable


def create_roundtable(consultation: Consultation, **fields) -> Roundtable:
    roundtable = Roundtable(consultation=consultation, seats_taken=0)
    _apply(roundtable, **fields)
    db.session.add(roundtable)
    db.session.flush()
    return roundtable


def update_roundtable(roundtable: Roundtable, **fields) -> Roundtable:
    _apply(roundtable, **fields)
    db.session.flush()
    if roundtable.capacity is not None:
        _promote_waiting(roundtable)
    return roundtable


def overlapping(consultation: Consultation, place: str, starts_at: datetime, ends_at: datetime, exclude_id=None):
    """Roundtables of the same consultation in the same room whose times overlap."""
    place = (place or "").strip()
    if not place:
        return []
    stmt = select(Roundtable).where(
        Roundtable.consultation_id == consultation.id,
        func.lower(Roundtable.place) == place.lower(),
        Roundtable.starts_at < ends_at,
        Roundtable.ends_at > starts_at,
    )
    if exclude_id:
        stmt = stmt.where(Roundtable.id != exclude_id)
    return list(db.session.scalars(stmt))


def roundtables_of(consultation: Consultation) -> tuple[list[Roundtable], list[Roundtable]]:
    """(upcoming in time order, past most recent first), in one query."""
    moment = now()
    meetings = db.session.scalars(
        select(Roundtable)
        .where(Roundtable.consultation_id == consultation.id)
        .order_by(Roundtable.starts_at, Roundtable.id)
    ).all()
    upcoming = [r for r in meetings if r.ends_at >= moment]
    past = [r for r in reversed(meetings) if r.ends_at < moment]
    return upcoming, past


def users_by_emails(emails: list[str]) -> tuple[list[User], list[str]]:
    """(users found, e-mails with no account)."""
    from ..accounts.services import normalise_email

    wanted = [normalise_email(e) for e in emails if e.strip()]
    if not wanted:
        return [], []
    found = list(db.session.scalars(select(User).where(User.email.in_(wanted)).order_by(User.display_name)))
    known = {u.email for u in found}
    return found, [e for e in wanted if e not in known]


# -- registration ---------------------------------------------------------------

def registration_refusal(user, roundtable: Roundtable) -> str | None:
    """Why ``user`` may not register people for ``roundtable`` now, or None."""
    if user is None or not user.is_authenticated:
        return _("Log in to register.")
    consultation = roundtable.consultation
    if consultation.is_draft:
        return _("This consultation is not open yet.")
    moment = now()
    if roundtable.ends_at <= moment:
        return _("This roundtable has already taken place.")
    if roundtable.registration_closes_at is not None and moment >= roundtable.registration_closes_at:
        return _("Registration for this roundtable is closed.")
    if consultation.kind == "local_council" and not permissions.can_manage_consultation(user, consultation):
        if user.organisation_id is None or not is_current_member(consultation, user.organisation_id):
            return _("Only member and observer organisations of this council may register.")
    return None


def _person_key(name: str) -> str:
    name = " ".join((name or "").split()).lower()
    return name or "(myself)"


def register(roundtable: Roundtable, registrant: User, *, name: str = "", show_name: bool = False) -> Registration:
    """Register a person; confirmed while seats remain, else on the waiting list.

    The seat is taken with one conditional UPDATE, so two people asking for the last
    seat at the same moment cannot both get it, on SQLite and PostgreSQL alike.
    """
    refusal = registration_refusal(registrant, roundtable)
    if refusal:
        raise RoundtableError(refusal)
    name = " ".join((name or "").split())
    if len(name) > 120:
        raise RoundtableError(_("Keep the name under 120 characters."), "name")
    key = _person_key(name)
    existing = _active_registration(roundtable.id, registrant.id, key)
    if existing is not None:
        raise RoundtableError(_duplicate_message(existing.name), "name")
    registration = Registration(
        roundtable_id=roundtable.id,
        registered_by_id=registrant.id,
        name=name,
        show_name=bool(show_name and name),
        person_key=key,
        organisation_id=registrant.organisation_id,
        stakeholder_category=registrant.stakeholder_category,
        governance_level=registrant.governance_level,
        status="waitlisted",
    )
    try:
        with db.session.begin_nested():
            db.session.add(registration)
            db.session.flush()
    except IntegrityError as exc:  # the same person, registered in parallel
        raise RoundtableError(_duplicate_message(name), "name") from exc
    if _take_seat(roundtable.id):
        registration.status = "confirmed"
    db.session.flush()
    db.session.refresh(roundtable, ["seats_taken"])
    return registration


def _duplicate_message(name: str) -> str:
    if name:
        return f"{name} is already registered for this roundtable."
    return _("You are already registered. To register a colleague, give their name.")


def _active_registration(roundtable_id: int, registrant_id: int, key: str):
    return db.session.scalar(
        select(Registration).where(
            Registration.roundtable_id == roundtable_id,
            Registration.registered_by_id == registrant_id,
            Registration.person_key == key,
            Registration.status != "cancelled",
        )
    )


def _take_seat(roundtable_id: int) -> bool:
    result = db.session.execute(
        update(Roundtable)
        .where(
            Roundtable.id == roundtable_id,
            or_(Roundtable.capacity.is_(None), Roundtable.seats_taken < Roundtable.capacity),
        )
        .values(seats_taken=Roundtable.seats_taken + 1)
        .execution_options(synchronize_session=False)
    )
    return result.rowcount == 1


def _lock(roundtable_id: int) -> None:
    """Serialise changes to one roundtable's seats (a row lock on PostgreSQL, the
    write lock on SQLite) before reading its waiting list."""
    db.session.execute(
        update(Roundtable)
        .where(Roundtable.id == roundtable_id)
        .values(seats_taken=Roundtable.seats_taken)
        .execution_options(synchronize_session=False)
    )


def _promote_waiting(roundtable: Roundtable) -> list[Registration]:
    """Move people up from the waiting list while seats are free."""
    promoted = []
    while True:
        waiting = db.session.scalar(
            select(Registration)
            .where(Registration.roundtable_id == roundtable.id, Registration.status == "waitlisted")
            .order_by(Registration.created_at, Registration.id)
            .limit(1)
        )
        if waiting is None or not _take_seat(roundtable.id):
            break
        waiting.status = "confirmed"
        promoted.append(waiting)
    db.session.flush()
    db.session.refresh(roundtable, ["seats_taken"])
    return promoted


def cancel_registration(registration: Registration) -> list[Registration]:
    """Cancel; the first person on the waiting list moves up. Returns who moved up."""
    if registration.status == "cancelled":
        raise RoundtableError(_("This registration is already cancelled."))
    roundtable = registration.roundtable
    _lock(roundtable.id)
    db.session.refresh(registration, ["status"])
    was_confirmed = registration.status == "confirmed"
    registration.status = "cancelled"
    registration.attended = False  # a cancelled registration never counts as present
    registration.cancelled_at = now()
    db.session.flush()
    if not was_confirmed:
        return []
    db.session.execute(
        update(Roundtable)
        .where(Roundtable.id == roundtable.id)
        .values(seats_taken=Roundtable.seats_taken - 1)
        .execution_options(synchronize_session=False)
    )
    return _promote_waiting(roundtable)


def registrations_of(roundtable: Roundtable, registrant: User | None = None):
    stmt = (
        select(Registration)
        .where(Registration.roundtable_id == roundtable.id, Registration.status != "cancelled")
        .order_by(Registration.status, Registration.created_at, Registration.id)
    )
    if registrant is not None:
        stmt = stmt.where(Registration.registered_by_id == registrant.id)
    return stmt


def has_active_registration(user, roundtable: Roundtable) -> bool:
    if user is None or not user.is_authenticated:
        return False
    return (
        db.session.scalar(
            select(func.count())
            .select_from(Registration)
            .where(
                Registration.roundtable_id == roundtable.id,
                Registration.registered_by_id == user.id,
                Registration.status != "cancelled",
            )
        )
        > 0
    )


def public_names(roundtable: Roundtable) -> list[str]:
    """Names of confirmed people who chose to be listed publicly."""
    return list(
        db.session.scalars(
            select(Registration.name)
            .where(
                Registration.roundtable_id == roundtable.id,
                Registration.status == "confirmed",
                Registration.show_name.is_(True),
            )
            .order_by(Registration.name)
        )
    )


def registration_counts(roundtable: Roundtable) -> dict[str, int]:
    rows = db.session.execute(
        select(Registration.status, func.count())
        .where(Registration.roundtable_id == roundtable.id)
        .group_by(Registration.status)
    )
    return {status: count for status, count in rows}


# -- attendance and minutes ------------------------------------------------------

@dataclass
class Attendance:
    total: int = 0
    by_category: dict[str, int] = field(default_factory=dict)
    by_level: dict[str, int] = field(default_factory=dict)


def record_attendance(roundtable: Roundtable, attended_ids, walk_ins) -> None:
    """Mark which confirmed registrations attended; replace the walk-in counts.

    ``walk_ins`` is a list of (category, governance level or None, count)."""
    if roundtable.starts_at > now():
        raise RoundtableError(_("Attendance can be recorded once the roundtable has started."))
    attended_ids = {int(i) for i in attended_ids}
    rows = db.session.scalars(
        select(Registration).where(
            Registration.roundtable_id == roundtable.id, Registration.status == "confirmed"
        )
    ).all()
    known = {r.id for r in rows}
    if attended_ids - known:
        raise RoundtableError(_("Only confirmed registrations can be marked as attended."), "attended")
    cleaned = []
    for category, level, count in walk_ins:
        if category not in STAKEHOLDER_CATEGORIES:
            raise RoundtableError(_("Choose a stakeholder category."), "walk_ins")
        level = level or None
        if level is not None and (category != "public_administration" or level not in GOVERNANCE_LEVELS):
            raise RoundtableError(_("Only public administrations have a governance level."), "walk_ins")
        if not isinstance(count, int) or count <= 0 or count > 10_000:
            raise RoundtableError(_("Give a number of people between 1 and 10000."), "walk_ins")
        cleaned.append(WalkIn(stakeholder_category=category, governance_level=level, count=count))
    for registration in rows:
        registration.attended = registration.id in attended_ids
    roundtable.walk_ins = cleaned
    roundtable.attendance_recorded_at = now()
    db.session.flush()


def attendance_rows(*, roundtable_ids=None, consultation_ids=None) -> list[tuple[str, str | None, int]]:
    """The one count of attendance, used by roundtable pages and summaries alike:
    (category, governance level, people) for registrations marked attended that are
    still confirmed (a registration cancelled after being marked present never counts)
    plus the walk-in counts, at the given roundtables or at every roundtable of the
    given consultations. One SQL ``GROUP BY``."""
    if roundtable_ids is not None:
        ids = list(roundtable_ids)
        if not ids:
            return []
        reg_where = Registration.roundtable_id.in_(ids)
        walk_where = WalkIn.roundtable_id.in_(ids)
    else:
        ids = list(consultation_ids or ())
        if not ids:
            return []
        at = select(Roundtable.id).where(Roundtable.consultation_id.in_(ids))
        reg_where = Registration.roundtable_id.in_(at)
        walk_where = WalkIn.roundtable_id.in_(at)
    registered = select(
        Registration.stakeholder_category.label("category"),
        Registration.governance_level.label("level"),
        literal(1).label("people"),
    ).where(reg_where, Registration.attended.is_(True), Registration.status == "confirmed")
    walked = select(
        WalkIn.stakeholder_category.label("category"),
        WalkIn.governance_level.label("level"),
        WalkIn.count.label("people"),
    ).where(walk_where)
    people = union_all(registered, walked).subquery()
    rows = db.session.execute(
        select(people.c.category, people.c.level, func.sum(people.c.people)).group_by(people.c.category, people.c.level)
    ).all()
    return [(category, level, int(count or 0)) for category, level, count in rows if count]


def attendance(roundtable_ids) -> Attendance:
    """Attendance (attended registrations plus walk-ins) by category and level."""
    result = Attendance()
    for category, level, count in attendance_rows(roundtable_ids=roundtable_ids):
        result.total += count
        result.by_category[category] = result.by_category.get(category, 0) + count
        if level:
            result.by_level[level] = result.by_level.get(level, 0) + count
    return result


def publish_minutes(roundtable: Roundtable, minutes: str) -> Roundtable:
    if not (minutes or "").strip():
        raise RoundtableError(_("Write the minutes before publishing them."), "minutes")
    roundtable.minutes_md = minutes
    roundtable.minutes_html = render_markdown(minutes)
    roundtable.minutes_published_at = now()
    db.session.flush()
    return roundtable


# -- capture from the room ----------------------------------------------------------

def capture_refusal(user, roundtable: Roundtable) -> str | None:
    if not permissions.can_capture(user, roundtable):
        return _("Only the roundtable's facilitators and the consultation's organisers can capture contributions.")
    if not roundtable.consultation.is_open:
        return _("Contributions can be captured while the consultation is open.")
    return None


def capture_contribution(
    roundtable: Roundtable,
    facilitator: User,
    *,
    kind: str,
    title: str,
    body: str = "",
    objectives=(),
    category: str,
    level: str | None = None,
    language: str | None = None,
) -> Contribution:
    """One contribution heard in the room: the voice's category, no individual named,
    in ``language`` (the consultation's main language when none is given)."""
    refusal = capture_refusal(facilitator, roundtable)
    if refusal:
        raise ContributionError(refusal)
    if category not in STAKEHOLDER_CATEGORIES:
        raise ContributionError(_("Choose the stakeholder category of the voice."), "category")
    level = level or None
    if level is not None and (category != "public_administration" or level not in GOVERNANCE_LEVELS):
        raise ContributionError(_("Only public administrations have a governance level."), "level")
    title, body, numbers, _keys, _challenges = clean_fields(
        roundtable.consultation, kind, title, body, objectives, (), ()
    )
    language = clean_language(roundtable.consultation, language)
    contribution = Contribution(
        consultation_id=roundtable.consultation_id,
        roundtable_id=roundtable.id,
        kind=kind,
        title=title,
        body_md=body,
        body_html=render_markdown(body),
        author=facilitator,
        stakeholder_category=category,
        governance_level=level,
        captured=True,
        language=language,
        status="active",
        objectives=[ContributionObjective(objective=n) for n in numbers],
    )
    db.session.add(contribution)
    db.session.flush()
    return contribution


RAISED_PAGE = 30


def keyset_page(stmt, after: int | None, per_page: int) -> tuple[list, int | None]:
    """One page of ``stmt`` (rows of Contribution, in id order) after the id ``after``:
    (the rows, the ``after`` of the next page or None). One query (plus the statement's
    eager loads) whatever the page: no OFFSET, no count."""
    if after:
        stmt = stmt.where(Contribution.id > after)
    rows = list(db.session.scalars(stmt.order_by(Contribution.id).limit(per_page + 1)))
    more = len(rows) > per_page
    rows = rows[:per_page]
    return rows, (rows[-1].id if more else None)


def contributions_at(roundtable: Roundtable):
    """The active contributions raised at ``roundtable``, in the order they were taken
    (use :func:`keyset_page` for a page of them)."""
    from sqlalchemy.orm import selectinload

    return (
        select(Contribution)
        .where(Contribution.roundtable_id == roundtable.id, Contribution.status == "active")
        .options(selectinload(Contribution.objectives))
    )


def raised_page(roundtable: Roundtable, after: int | None = None, per_page: int = RAISED_PAGE):
    return keyset_page(contributions_at(roundtable), after, per_page)


# -- continuity -----------------------------------------------------------------------

def previous_roundtable(roundtable: Roundtable) -> Roundtable | None:
    return db.session.scalar(
        select(Roundtable)
        .where(
            Roundtable.consultation_id == roundtable.consultation_id,
            Roundtable.starts_at < roundtable.starts_at,
        )
        .order_by(Roundtable.starts_at.desc(), Roundtable.id.desc())
        .limit(1)
    )


def open_challenges_of(roundtable: Roundtable) -> list[Contribution]:
    """Active, not yet addressed challenges raised at or discussed at ``roundtable``."""
    discussed = select(ChallengeDiscussion.contribution_id).where(ChallengeDiscussion.roundtable_id == roundtable.id)
    return list(
        db.session.scalars(
            select(Contribution)
            .where(
                Contribution.kind == "challenge",
                Contribution.status == "active",
                Contribution.addressed_at.is_(None),
                or_(Contribution.roundtable_id == roundtable.id, Contribution.id.in_(discussed)),
            )
            .order_by(Contribution.created_at, Contribution.id)
        )
    )


def carried_forward_to(roundtable: Roundtable, after: int | None = None, per_page: int | None = None):
    """The challenges carried forward to ``roundtable``: all of them, or (``per_page``)
    one page of them as (rows, the ``after`` of the next page or None)."""
    stmt = (
        select(Contribution)
        .join(ChallengeDiscussion, ChallengeDiscussion.contribution_id == Contribution.id)
        .where(ChallengeDiscussion.roundtable_id == roundtable.id, Contribution.status == "active")
    )
    if per_page is not None:
        return keyset_page(stmt, after, per_page)
    return list(db.session.scalars(stmt.order_by(Contribution.created_at, Contribution.id)))


def carry_forward(target: Roundtable, challenge_ids) -> int:
    """Put challenges on ``target``'s agenda. Only open challenges of the same
    consultation qualify; ones already there are skipped. Returns how many were added."""
    ids = {int(i) for i in challenge_ids}
    if not ids:
        raise RoundtableError(_("Choose at least one challenge to carry forward."), "challenges")
    challenges = list(
        db.session.scalars(
            select(Contribution).where(
                Contribution.id.in_(ids),
                Contribution.consultation_id == target.consultation_id,
                Contribution.kind == "challenge",
                Contribution.status == "active",
            )
        )
    )
    if len(challenges) != len(ids):
        raise RoundtableError(_("Only challenges of this consultation can be carried forward."), "challenges")
    already = set(
        db.session.scalars(
            select(ChallengeDiscussion.contribution_id).where(ChallengeDiscussion.roundtable_id == target.id)
        )
    )
    added = 0
    for challenge in challenges:
        if challenge.id in already or challenge.roundtable_id == target.id:
            continue
        db.session.add(ChallengeDiscussion(contribution_id=challenge.id, roundtable_id=target.id))
        added += 1
    db.session.flush()
    return added


def discussed_at(challenge: Contribution) -> list[Roundtable]:
    return list(
        db.session.scalars(
            select(Roundtable)
            .join(ChallengeDiscussion, ChallengeDiscussion.roundtable_id == Roundtable.id)
            .where(ChallengeDiscussion.contribution_id == challenge.id)
            .order_by(Roundtable.starts_at)
        )
    )


def mark_addressed(challenge: Contribution, note: str) -> Contribution:
    if challenge.kind != "challenge":
        raise RoundtableError(_("Only a challenge can be marked addressed."))
    note = (note or "").strip()
    if not note:
        raise RoundtableError(_("Say how the challenge was addressed."), "note")
    if len(note) > 2000:
        raise RoundtableError(_("Keep the note under 2000 characters."), "note")
    challenge.addressed_at = now()
    challenge.addressed_note = note
    db.session.flush()
    return challenge


def reopen_challenge(challenge: Contribution) -> Contribution:
    challenge.addressed_at = None
    challenge.addressed_note = ""
    db.session.flush()
    return challenge


# -- standing bodies -------------------------------------------------------------------

def is_current_member(consultation: Consultation, organisation_id: int) -> bool:
    return (
        db.session.scalar(
            select(func.count())
            .select_from(CouncilMember)
            .where(
                CouncilMember.consultation_id == consultation.id,
                CouncilMember.organisation_id == organisation_id,
                CouncilMember.joined_on <= today(),
                or_(CouncilMember.left_on.is_(None), CouncilMember.left_on >= today()),
            )
        )
        > 0
    )


def add_member(
    consultation: Consultation,
    organisation: Organisation,
    *,
    status: str = "member",
    joined_on: date,
    left_on: date | None = None,
) -> CouncilMember:
    if consultation.kind != "local_council":
        raise RoundtableError(_("Only a local council has members."))
    if status not in MEMBER_STATUSES:
        raise RoundtableError(_("Choose member or observer."), "status")
    if left_on is not None and left_on < joined_on:
        raise RoundtableError(_("The leaving date cannot be before the joining date."), "left_on")
    current = db.session.scalar(
        select(CouncilMember).where(
            CouncilMember.consultation_id == consultation.id,
            CouncilMember.organisation_id == organisation.id,
            or_(CouncilMember.left_on.is_(None), CouncilMember.left_on >= joined_on),
        )
    )
    if current is not None:
        raise RoundtableError(_("%(name)s is already a member or observer.", name=organisation.name), "organisation_id")
    member = CouncilMember(
        consultation_id=consultation.id,
        organisation=organisation,
        status=status,
        joined_on=joined_on,
        left_on=left_on,
    )
    db.session.add(member)
    db.session.flush()
    return member


def update_member(member: CouncilMember, *, status: str, joined_on: date, left_on: date | None) -> CouncilMember:
    if status not in MEMBER_STATUSES:
        raise RoundtableError(_("Choose member or observer."), "status")
    if left_on is not None and left_on < joined_on:
        raise RoundtableError(_("The leaving date cannot be before the joining date."), "left_on")
    member.status, member.joined_on, member.left_on = status, joined_on, left_on
    db.session.flush()
    return member


def members_of(consultation: Consultation, current_only: bool = True):
    stmt = (
        select(CouncilMember)
        .join(Organisation, Organisation.id == CouncilMember.organisation_id)
        .where(CouncilMember.consultation_id == consultation.id)
        .order_by(CouncilMember.status, Organisation.name)
    )
    if current_only:
        stmt = stmt.where(or_(CouncilMember.left_on.is_(None), CouncilMember.left_on >= today()))
    return stmt


def composition(consultation: Consultation) -> dict:
    """Current members and observers by stakeholder category (one GROUP BY)."""
    rows = db.session.execute(
        select(Organisation.category, CouncilMember.status, func.count())
        .join(Organisation, Organisation.id == CouncilMember.organisation_id)
        .where(
            CouncilMember.consultation_id == consultation.id,
            or_(CouncilMember.left_on.is_(None), CouncilMember.left_on >= today()),
        )
        .group_by(Organisation.category, CouncilMember.status)
    ).all()
    by_category: dict[str, dict[str, int]] = {}
    totals = {"member": 0, "observer": 0}
    for category, status, count in rows:
        by_category.setdefault(category, {"member": 0, "observer": 0})[status] = count
        totals[status] += count
    return {"by_category": by_category, "totals": totals}
