"""Contributions: submit, edit, withdraw, browse."""
from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
from datetime import datetime, time

from sqlalchemy import Select, event, func, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, joinedload, selectinload
from sqlalchemy.orm.attributes import flag_modified

from .. import permissions
from ..consultations.models import VISIBLE_STATES, Consultation
from ..extensions import db
from ..http import id_argument
from ..markdown import MAX_MARKDOWN_LENGTH, render_markdown
from ..reference import (
    CONTRIBUTION_KINDS,
    GOVERNANCE_LEVELS,
    LANGUAGES,
    OBJECTIVE_COUNT,
    STAKEHOLDER_CATEGORIES,
    principles_by_key,
)
from ..timeutil import today
from .models import Contribution, ContributionObjective, ContributionPrinciple, proposal_answers
from flask_babel import gettext as _

MAX_TITLE_LENGTH = 200


class DuplicateSubmission(Exception):
    """The same form was submitted again: ``contribution`` is the one stored the first time."""

    def __init__(self, contribution):
        super().__init__("This submission was already received.")
        self.contribution = contribution


_KEY_CHARS = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_")


def _valid_key(key: str | None) -> str | None:
    if not key or len(key) > 64 or not set(key) <= _KEY_CHARS:
        return None
    return key


def _by_key(key: str | None):
    if key is None:
        return None
    return db.session.scalar(select(Contribution).where(Contribution.submission_key == key))


def _store_once(contribution) -> None:
    """Insert, or raise DuplicateSubmission when a submission with the same key exists
    (checked first, and enforced by the unique constraint when requests race: then the
    transaction, which holds nothing else, is rolled back)."""
    with db.session.no_autoflush:  # the new object is not in the session yet
        existing = _by_key(contribution.submission_key)
    if existing is not None:
        raise DuplicateSubmission(existing)
    db.session.add(contribution)
    try:
        db.session.flush()
    except IntegrityError:
        db.session.rollback()
        existing = _by_key(contribution.submission_key)
        if existing is None:
            raise
        raise DuplicateSubmission(existing) from None


class ContributionError(ValueError):
    def __init__(self, message: str, field: str | None = None):
        super().__init__(message)
        self.field = field


def clean_fields(consultation: Consultation, kind, title, body, objectives, principles, answers):
    if kind not in CONTRIBUTION_KINDS:
        raise ContributionError(_("Choose challenge, proposal or good practice."), "kind")
    title = (title or "").strip()
    if not title:
        raise ContributionError(_("Give your contribution a title."), "title")
    if len(title) > MAX_TITLE_LENGTH:
        raise ContributionError(_("Keep the title under %(max)s characters.", max=MAX_TITLE_LENGTH), "title")
    body = body or ""
    if len(body) > MAX_MARKDOWN_LENGTH:
        raise ContributionError(_("Keep the text under %(max)s characters.", max=MAX_MARKDOWN_LENGTH), "body")
    numbers = sorted({int(n) for n in objectives or ()})
    if not numbers:
        raise ContributionError(_("Tag at least one GCM objective."), "objectives")
    if any(not 1 <= n <= OBJECTIVE_COUNT for n in numbers):
        raise ContributionError(_("Unknown GCM objective."), "objectives")
    keys = sorted(set(principles or ()))
    if any(k not in principles_by_key() for k in keys):
        raise ContributionError(_("Unknown guiding principle."), "principles")
    challenge_ids = sorted({int(i) for i in answers or ()})
    challenges: list[Contribution] = []
    if challenge_ids:
        if kind != "proposal":
            raise ContributionError(_("Only a proposal can answer challenges."), "answers")
        if len(challenge_ids) > MAX_ANSWERS:
            raise ContributionError(_("A proposal answers at most %(max)s challenges.", max=MAX_ANSWERS), "answers")
        challenges = list(
            db.session.scalars(
                select(Contribution).where(
                    Contribution.id.in_(challenge_ids),
                    Contribution.consultation_id == consultation.id,
                    Contribution.kind == "challenge",
                    Contribution.status == "active",
                )
            )
        )
        if len(challenges) != len(challenge_ids):
            raise ContributionError(_("A proposal answers challenges of the same consultation only."), "answers")
    return title, body, numbers, keys, challenges


def clean_language(consultation: Consultation, language: str | None) -> str:
    """The language a contribution is written in: one the consultation accepts
    (its main language when none is given)."""
    language = (language or "").strip() or consultation.language or "en"
    if language not in LANGUAGES or language not in consultation.accepted_language_codes:
        raise ContributionError(_("This consultation does not accept contributions in this language."), "language")
    return language


def language_choices(consultation: Consultation) -> list[tuple[str, str]]:
    """(code, label) of the languages a consultation accepts, labels in the interface language."""
    from flask_babel import gettext

    return [(code, gettext(LANGUAGES[code])) for code in consultation.accepted_language_codes if code in LANGUAGES]


def default_language(consultation: Consultation, interface_locale: str | None) -> str:
    """The interface language when the consultation accepts it, else its main language."""
    accepted = consultation.accepted_language_codes
    return interface_locale if interface_locale in accepted else (consultation.language or accepted[0])


def _assign(contribution, kind, cleaned, name_organisation):
    title, body, numbers, keys, challenges = cleaned
    contribution.kind = kind
    contribution.title = title
    contribution.body_md = body
    contribution.body_html = render_markdown(body)
    existing = {o.objective: o for o in contribution.objectives}
    contribution.objectives = [existing.get(n) or ContributionObjective(objective=n) for n in numbers]
    existing_p = {p.principle: p for p in contribution.principles}
    contribution.principles = [existing_p.get(k) or ContributionPrinciple(principle=k) for k in keys]
    contribution.answers = challenges
    contribution.name_organisation = bool(name_organisation and contribution.organisation_name)


def submit_contribution(
    consultation: Consultation,
    author,
    *,
    kind: str,
    title: str,
    body: str = "",
    objectives=(),
    principles=(),
    answers=(),
    name_organisation: bool = False,
    on_behalf: bool = False,
    on_behalf_note: str = "",
    on_behalf_category: str | None = None,
    submission_key: str | None = None,
    language: str | None = None,
) -> Contribution:
    """A contribution by a logged-in person, or (``on_behalf``) input a migrant or
    diaspora association collected from people who hold no account: recorded as
    such, with the association as intermediary and no identities."""
    refusal = permissions.contribution_refusal(author, consultation)
    if refusal:
        raise ContributionError(refusal)
    cleaned = clean_fields(consultation, kind, title, body, objectives, principles, answers)
    language = clean_language(consultation, language)
    organisation = author.organisation
    category, level = author.stakeholder_category, author.governance_level
    if on_behalf:
        if not permissions.can_submit_on_behalf(author):
            raise ContributionError(
                _("Only members of a migrant or diaspora association can submit input on behalf of others."), "on_behalf"
            )
        on_behalf_note = (on_behalf_note or "").strip()
        if not on_behalf_note:
            raise ContributionError(_('Say where the input was collected, e.g. "our meeting of 3 May".'), "on_behalf_note")
        if len(on_behalf_note) > 300:
            raise ContributionError(_("Keep this under 300 characters."), "on_behalf_note")
        category = on_behalf_category or organisation.category
        if category not in STAKEHOLDER_CATEGORIES or category == "public_administration":
            raise ContributionError(_("Choose the stakeholder category of the people who spoke."), "on_behalf_category")
        level = None
    contribution = Contribution(
        consultation=consultation,
        author=author,
        organisation_id=organisation.id if organisation else None,
        organisation_name=organisation.name if organisation else None,
        stakeholder_category=category,
        governance_level=level,
        on_behalf=bool(on_behalf),
        on_behalf_note=on_behalf_note if on_behalf else "",
        status="pending" if consultation.premoderation else "active",
        submission_key=_valid_key(submission_key),
        language=language,
    )
    _assign(contribution, kind, cleaned, name_organisation)
    _store_once(contribution)
    return contribution


def update_contribution(contribution: Contribution, editor, **fields) -> Contribution:
    if not permissions.can_edit_contribution(editor, contribution):
        raise ContributionError(_("Only its author can change a contribution, and only while the consultation is open."))
    cleaned = clean_fields(
        contribution.consultation,
        fields.get("kind", contribution.kind),
        fields.get("title", contribution.title),
        fields.get("body", contribution.body_md),
        fields.get("objectives", contribution.objective_numbers),
        fields.get("principles", contribution.principle_keys),
        fields.get("answers", [c.id for c in contribution.answers]),
    )
    contribution.language = clean_language(contribution.consultation, fields.get("language", contribution.language))
    _assign(
        contribution,
        fields.get("kind", contribution.kind),
        cleaned,
        fields.get("name_organisation", contribution.name_organisation),
    )
    db.session.flush()
    return contribution


# -- without an account ---------------------------------------------------------------

def open_anonymous_link(consultation: Consultation) -> str:
    """Create (or replace: the old link stops working) the consultation's anonymous link."""
    consultation.anonymous_token = secrets.token_urlsafe(24)
    db.session.flush()
    return consultation.anonymous_token


def revoke_anonymous_link(consultation: Consultation) -> None:
    consultation.anonymous_token = None
    db.session.flush()


def consultation_for_token(token: str) -> Consultation | None:
    if not token or len(token) > 64:
        return None
    return db.session.scalar(select(Consultation).where(Consultation.anonymous_token == token))


def _hash_code(code: str) -> str:
    # The code is 128 random bits: a fast hash is enough, and no salt is needed.
    return hashlib.sha256(code.encode()).hexdigest()


def _date_only(moment: datetime | None = None) -> datetime:
    """Anonymous contributions keep the day, not the time, of submission and edits."""
    return datetime.combine(moment.date() if moment is not None else today(), time())


def _anonymous_ids(session, ids) -> set[int]:
    """Which of these contribution ids are anonymous contributions."""
    ids = {int(i) for i in ids if i is not None}
    return {i for i in ids if (obj := session.get(Contribution, i)) is not None and obj.anonymous}


@event.listens_for(Session, "before_flush")
def _anonymous_rows_keep_the_day_only(session, flush_context, instances) -> None:
    """The one place that enforces the firewall's promise on time: whatever changes an
    anonymous contribution (its author's edit or withdrawal, an organiser hiding,
    restoring, approving or marking it addressed, a proposal answering it), every
    timestamp of its row holds the date only, and so does every audit-log entry about
    it (an organiser approving it at 10:02 would otherwise date its submission)."""
    from ..audit.models import AuditEvent

    events = []
    for obj in (*session.new, *session.dirty):
        if isinstance(obj, Contribution) and obj.anonymous:
            obj.created_at = _date_only(obj.created_at)
            obj.updated_at = _date_only()
            # Set even when unchanged, or the column's onupdate would write the time.
            flag_modified(obj, "updated_at")
            if obj.addressed_at is not None:
                obj.addressed_at = _date_only(obj.addressed_at)
        elif isinstance(obj, AuditEvent) and obj.target_type == "contribution" and obj in session.new:
            events.append(obj)
    if events:
        anonymous = _anonymous_ids(session, (e.target_id for e in events))
        for item in events:
            if item.target_id in anonymous:
                item.created_at = _date_only(item.created_at)


def submit_anonymous(
    consultation: Consultation,
    *,
    category: str,
    kind: str,
    title: str,
    body: str = "",
    objectives=(),
    principles=(),
    level: str | None = None,
    submission_key: str | None = None,
    language: str | None = None,
) -> tuple[Contribution, str]:
    """A contribution with no account and no identity. Returns it and the one-time
    secret code that lets its author edit or withdraw it while the consultation is open."""
    if consultation.anonymous_token is None or not consultation.is_open:
        raise ContributionError(_("This consultation does not take contributions without an account now."))
    if category not in STAKEHOLDER_CATEGORIES:
        raise ContributionError(_("Choose the stakeholder category that describes you."), "category")
    level = level or None
    if level is not None and (category != "public_administration" or level not in GOVERNANCE_LEVELS):
        raise ContributionError(_("Only public administrations have a governance level."), "level")
    cleaned = clean_fields(consultation, kind, title, body, objectives, principles, ())
    language = clean_language(consultation, language)
    key = _valid_key(submission_key)
    code = _code_for_key(key) if key else secrets.token_urlsafe(16)
    moment = _date_only()
    contribution = Contribution(
        consultation=consultation,
        author_id=None,
        stakeholder_category=category,
        governance_level=level,
        anonymous=True,
        edit_code_hash=_hash_code(code),
        status="pending" if consultation.premoderation else "active",
        created_at=moment,
        updated_at=moment,
        submission_key=_anonymous_key(key),
        language=language,
    )
    _assign(contribution, kind, cleaned, False)
    _store_once(contribution)
    return contribution, code


# The secret code of an anonymous contribution is derived from the random key its form
# carried (an HMAC keyed by SECRET_KEY), and the key is stored hashed: the database
# holds neither the code nor what makes it, yet the same form sent again (a retried
# request whose answer was lost) gets the same code back, and only the holder of that
# form can ask for it.

def _code_for_key(key: str) -> str:
    from flask import current_app

    secret = current_app.config["SECRET_KEY"]
    secret = secret.encode() if isinstance(secret, str) else secret
    digest = hmac.new(secret, b"mesa-anonymous-code\x00" + key.encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest[:16]).rstrip(b"=").decode()


def _anonymous_key(key: str | None) -> str | None:
    return hashlib.sha256(b"mesa-anonymous-key\x00" + key.encode()).hexdigest() if key else None


def find_anonymous_retry(
    consultation: Consultation, submission_key: str | None, *, category=None, kind=None, title=None, body="", **_
) -> tuple[Contribution, str] | None:
    """For an anonymous form that was sent before: the contribution it stored and its
    secret code, or None (not sent before, not by this form to this consultation, or
    not with the same text: a retried request repeats the first one exactly, so a form
    reused with other content, e.g. from a shared device's history, gets no code)."""
    key = _valid_key(submission_key)
    if key is None:
        return None
    contribution = _by_key(_anonymous_key(key))
    if contribution is None or not contribution.anonymous or contribution.consultation_id != consultation.id:
        return None
    same = (contribution.stakeholder_category, contribution.kind, contribution.title, contribution.body_md) == (
        category, kind, (title or "").strip(), body or ""
    )
    if not same:
        return None
    code = _code_for_key(key)
    return (contribution, code) if code_matches(contribution, code) else None


_NO_CODE_HASH = _hash_code("no contribution has this code")


def code_matches(contribution: Contribution | None, code: str) -> bool:
    """Costs the same whether or not the contribution exists or is anonymous."""
    stored = (contribution.edit_code_hash if contribution is not None and contribution.anonymous else None) or ""
    given = _hash_code((code or "").strip())
    matches = hmac.compare_digest(stored or _NO_CODE_HASH, given)
    return bool(matches and stored and code and code.strip())


def _check_code(contribution: Contribution, code: str) -> None:
    if not code_matches(contribution, code):
        raise ContributionError(_("This code does not match this contribution."), "code")
    if not contribution.consultation.is_open or contribution.status not in ("active", "pending"):
        raise ContributionError(_("This contribution can no longer be changed: the consultation is closed or it was withdrawn."))


def update_anonymous(contribution: Contribution, code: str, **fields) -> Contribution:
    _check_code(contribution, code)
    cleaned = clean_fields(
        contribution.consultation,
        fields.get("kind", contribution.kind),
        fields.get("title", contribution.title),
        fields.get("body", contribution.body_md),
        fields.get("objectives", contribution.objective_numbers),
        fields.get("principles", contribution.principle_keys),
        (),
    )
    contribution.language = clean_language(contribution.consultation, fields.get("language", contribution.language))
    _assign(contribution, fields.get("kind", contribution.kind), cleaned, False)
    contribution.updated_at = _date_only()
    db.session.flush()
    return contribution


def withdraw_anonymous(contribution: Contribution, code: str) -> Contribution:
    _check_code(contribution, code)
    contribution.status = "withdrawn"
    contribution.updated_at = _date_only()
    db.session.flush()
    return contribution


def withdraw_contribution(contribution: Contribution, editor) -> Contribution:
    if not permissions.can_edit_contribution(editor, contribution):
        raise ContributionError(_("Only its author can withdraw a contribution, and only while the consultation is open."))
    contribution.status = "withdrawn"
    db.session.flush()
    return contribution


# -- the challenge picker of the contribute form ---------------------------------------
# The form never lists every challenge of a consultation (a national one holds
# thousands): it shows the ones chosen and the matches of a search, a page at a time.

CHALLENGE_PAGE = 20
MAX_ANSWERS = 50


def _open_challenges(consultation: Consultation):
    return select(Contribution.id, Contribution.title).where(
        Contribution.consultation_id == consultation.id,
        Contribution.kind == "challenge",
        Contribution.status == "active",
    )


def find_challenges(
    consultation: Consultation, q: str | None = None, *, before: int | None = None,
    exclude_id: int | None = None, limit: int = CHALLENGE_PAGE,
) -> tuple[list[tuple[int, str]], int | None]:
    """Open challenges of ``consultation`` whose title contains ``q`` (or whose number is
    ``q``), newest first, ``limit`` at a time: ((id, title) pairs, the ``before`` of the
    next page or None). One query, bounded whatever the number of challenges."""
    stmt = _open_challenges(consultation)
    q = " ".join("".join(ch for ch in (q or "") if ch.isprintable() or ch.isspace()).split())[:200]
    if q:
        number = id_argument(q.lstrip("#"))  # a number a database id can be, or None
        match = Contribution.title.icontains(q, autoescape=True)
        if number is not None:
            match = or_(match, Contribution.id == number)
        stmt = stmt.where(match)
    if before:
        stmt = stmt.where(Contribution.id < before)
    if exclude_id:
        stmt = stmt.where(Contribution.id != exclude_id)
    rows = [(row.id, row.title) for row in db.session.execute(stmt.order_by(Contribution.id.desc()).limit(limit + 1))]
    more = len(rows) > limit
    rows = rows[:limit]
    return rows, (rows[-1][0] if more and rows else None)


def challenges_by_ids(consultation: Consultation, ids, exclude_id: int | None = None) -> list[tuple[int, str]]:
    """(id, title) of the open challenges of ``consultation`` among ``ids`` (at most
    MAX_ANSWERS of them), in the order given: what a form shows as chosen."""
    wanted = [i for i in dict.fromkeys(int(i) for i in ids or ()) if 0 < i <= 2**31 - 1 and i != exclude_id]
    wanted = wanted[:MAX_ANSWERS]
    if not wanted:
        return []
    titles = {row.id: row.title for row in db.session.execute(_open_challenges(consultation).where(Contribution.id.in_(wanted)))}
    return [(i, titles[i]) for i in wanted if i in titles]


ANSWERING_PAGE = 30


def answering_page(challenge: Contribution, after: int | None = None, per_page: int = ANSWERING_PAGE):
    """The active proposals that answer ``challenge``, a page at a time in id order:
    (proposals, the ``after`` of the next page or None). One query whatever their number."""
    stmt = (
        select(Contribution)
        .join(proposal_answers, proposal_answers.c.proposal_id == Contribution.id)
        .where(proposal_answers.c.challenge_id == challenge.id, Contribution.status == "active")
    )
    if after:
        stmt = stmt.where(Contribution.id > after)
    rows = list(db.session.scalars(stmt.order_by(Contribution.id).limit(per_page + 1)))
    return rows[:per_page], (rows[per_page - 1].id if len(rows) > per_page else None)


def filter_contributions(stmt: Select, *, kind=None, category=None, language=None, q=None) -> Select:
    """The list filters every contribution list shares (a consultation's, an objective's):
    kind, stakeholder category and language when they are known values, and a text
    search in title and body. Unknown values filter nothing."""
    if kind in CONTRIBUTION_KINDS:
        stmt = stmt.where(Contribution.kind == kind)
    if category in STAKEHOLDER_CATEGORIES:
        stmt = stmt.where(Contribution.stakeholder_category == category)
    if language in LANGUAGES:
        stmt = stmt.where(Contribution.language == language)
    if q:
        stmt = stmt.where(
            or_(Contribution.title.icontains(q, autoescape=True), Contribution.body_md.icontains(q, autoescape=True))
        )
    return stmt


def browse(
    *,
    consultation: Consultation | None = None,
    kind: str | None = None,
    objective: int | None = None,
    category: str | None = None,
    q: str | None = None,
    language: str | None = None,
) -> Select:
    """Active contributions, filtered; eager-loads what list pages show.

    Without ``consultation`` the list spans every consultation visible to the public.
    """
    stmt = select(Contribution).where(Contribution.status == "active")
    if consultation is not None:
        stmt = stmt.where(Contribution.consultation_id == consultation.id)
    else:
        stmt = stmt.join(Consultation, Consultation.id == Contribution.consultation_id).where(
            Consultation.state.in_(VISIBLE_STATES)
        )
        stmt = stmt.options(joinedload(Contribution.consultation))
    stmt = filter_contributions(stmt, kind=kind, category=category, language=language, q=q)
    if objective:
        if consultation is not None:
            # Inside one consultation the plan starts from the consultation's contributions
            # and checks each one's objective by primary key: with IN (...) SQLite walked
            # the objective's index across every consultation (issue 14).
            stmt = stmt.where(
                select(ContributionObjective.contribution_id)
                .where(
                    ContributionObjective.contribution_id == Contribution.id,
                    ContributionObjective.objective == objective,
                )
                .exists()
            )
        else:
            stmt = stmt.where(
                Contribution.id.in_(
                    select(ContributionObjective.contribution_id).where(ContributionObjective.objective == objective)
                )
            )
    return stmt.options(
        selectinload(Contribution.objectives),
    ).order_by(Contribution.created_at.desc(), Contribution.id.desc())


def contributions_by_language(consultation_ids) -> dict[str, int]:
    """How many active contributions each language has across these consultations
    ({"en": 12, "ar": 3}): one GROUP BY, for the summaries."""
    ids = [int(i) for i in consultation_ids or ()]
    if not ids:
        return {}
    rows = db.session.execute(
        select(Contribution.language, func.count(Contribution.id))
        .where(Contribution.consultation_id.in_(ids), Contribution.status == "active")
        .group_by(Contribution.language)
        .order_by(Contribution.language)
    )
    return {language: count for language, count in rows}
