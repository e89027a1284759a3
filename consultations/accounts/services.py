"""Accounts: registration, authentication, roles, e-mailed links, personal data."""
from __future__ import annotations

import hashlib
import secrets
from datetime import timedelta

from flask import current_app
from sqlalchemy import String, case, cast, delete, false, func, literal, select, true, update
from werkzeug.security import check_password_hash, generate_password_hash

from ..audit.services import events_about_user, record
from ..database import reads_only
from ..extensions import db
from ..mail import absolute_url, send_mail
from ..organisations.models import Organisation
from ..organisations.services import OrganisationError, find_by_name as find_organisation_by_name
from ..reference import GOVERNANCE_LEVELS, STAKEHOLDER_CATEGORIES
from ..timeutil import utcnow
from .models import ROLES, AccountToken, User
from .passwords import MIN_PASSWORD_LENGTH, password_problem  # noqa: F401  (re-exported)
from flask_babel import gettext as _
from flask_babel import ngettext
# Compared against when the e-mail is unknown, so both cases cost the same time.
_DUMMY_HASH = generate_password_hash("mesa-dummy-password")


class AccountError(ValueError):
    """A rule about accounts was broken; ``field`` names the form field concerned."""

    def __init__(self, message: str, field: str | None = None):
        super().__init__(message)
        self.field = field


def normalise_email(email: str) -> str:
    return (email or "").strip().lower()


def find_by_email(email: str) -> User | None:
    email = normalise_email(email)
    if "\x00" in email or len(email) > 254:  # no account has it (and PostgreSQL refuses NUL)
        return None
    return db.session.scalar(select(User).where(User.email == email))


def register_user(
    email: str,
    display_name: str,
    password: str,
    *,
    role: str = "participant",
    organisation: Organisation | None = None,
    individual_category: str = "other",
    confirmed: bool = True,
) -> User:
    """Create an account. Self-registration goes through ``request_registration``, which
    creates it unconfirmed; accounts made by admins, the CLI or the demo start confirmed."""
    if role not in ROLES:
        raise AccountError(f"Unknown role {role!r}.", "role")
    problem = password_problem(password, email=email)
    if problem:
        raise AccountError(problem, "password")
    if find_by_email(email) is not None:
        raise AccountError(_("An account with this e-mail already exists. Log in instead."), "email")
    user = User(
        email=normalise_email(email),
        display_name=display_name.strip(),
        role=role,
        organisation=organisation,
        individual_category=individual_category,
        email_confirmed_at=utcnow() if confirmed else None,
    )
    user.set_password(password)
    db.session.add(user)
    db.session.flush()
    return user


def authenticate(email: str, password: str) -> User | None:
    """The account with this e-mail address and password, or None.

    The password check (scrypt) is slow on purpose, so it must hold no lock: on SQLite
    a POST request's transaction takes the database's write lock, and logins hashing
    inside it queued behind each other until "database is locked". So the transaction
    in progress is ended (committed) first, and the account is read in a transaction
    that only reads (deferred on SQLite), which stays open through the check. A caller
    that writes afterwards commits first.
    """
    db.session.commit()
    with reads_only():
        user = find_by_email(email)
    if user is None:
        check_password_hash(_DUMMY_HASH, password)
        return None
    return user if user.check_password(password) else None


def change_password(user: User, current: str, new: str) -> None:
    if not user.check_password(current):
        raise AccountError(_("The current password is not right."), "current_password")
    problem = password_problem(new, email=user.email)
    if problem:
        raise AccountError(problem, "new_password")
    user.set_password(new)
    # Every other session of this person ends; the caller logs this one in again.
    user.end_sessions()
    record(user, "account.password_changed", target=user)
    db.session.flush()


def set_role(user: User, role: str) -> User:
    if role not in ROLES:
        raise AccountError(f"Unknown role {role!r}.", "role")
    user.role = role
    db.session.flush()
    return user


def count_admins() -> int:
    return db.session.scalar(select(func.count()).select_from(User).where(User.role == "admin"))


def search_users(q: str | None):
    stmt = select(User).order_by(User.display_name, User.id)
    if q:
        stmt = stmt.where(User.email.icontains(q, autoescape=True) | User.display_name.icontains(q, autoescape=True))
    return stmt


# -- e-mailed links -------------------------------------------------------------

def _token_hash(secret: str) -> str:
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()


def issue_token(user: User, purpose: str) -> str:
    """A new single-use secret for ``user``; only its hash is stored. Returns the secret."""
    seconds = current_app.config["MESA_RESET_SECONDS" if purpose == "reset_password" else "MESA_CONFIRM_SECONDS"]
    secret = secrets.token_urlsafe(32)
    db.session.add(
        AccountToken(
            user=user,
            purpose=purpose,
            token_hash=_token_hash(secret),
            expires_at=utcnow() + timedelta(seconds=int(seconds)),
        )
    )
    db.session.flush()
    return secret


def valid_token(secret: str, purpose: str) -> AccountToken | None:
    """The unused, unexpired token for this secret, or None."""
    if not secret or len(secret) > 100:
        return None
    return db.session.scalar(
        select(AccountToken).where(
            AccountToken.token_hash == _token_hash(secret),
            AccountToken.purpose == purpose,
            AccountToken.used_at.is_(None),
            AccountToken.expires_at > utcnow(),
        )
    )


def _use_tokens(user: User, purpose: str) -> None:
    """Spend every outstanding token of this kind: a link works once."""
    db.session.execute(
        update(AccountToken)
        .where(AccountToken.user_id == user.id, AccountToken.purpose == purpose, AccountToken.used_at.is_(None))
        .values(used_at=utcnow())
    )


def _check_new_organisation(name: str, category: str, governance_level: str | None) -> None:
    """The checks ``create_organisation`` makes, without creating anything (used when the
    e-mail is already registered, so that both cases fail or succeed alike)."""
    if not name.strip():
        raise OrganisationError(_("Give the organisation's name."), "organisation_name")
    if category not in STAKEHOLDER_CATEGORIES:
        raise OrganisationError(_("Choose a stakeholder category."), "organisation_category")
    if category == "public_administration" and governance_level not in GOVERNANCE_LEVELS:
        raise OrganisationError(_("A public administration needs its governance level."), "governance_level")
    if category != "public_administration" and governance_level:
        raise OrganisationError(_("Only public administrations have a governance level."), "governance_level")
    if find_organisation_by_name(name) is not None:
        raise OrganisationError(
            _("This organisation is already registered. Ask an administrator to add you to it."),
            "organisation_name",
        )


def _send_confirmation(user: User, again: bool = False) -> None:
    link = absolute_url("accounts.confirm_email", token=issue_token(user, "confirm_email"))
    hours = current_app.config["MESA_CONFIRM_SECONDS"] // 3600
    intro = (
        "Someone (probably you) asked again to register on Mesa with this address."
        if again
        else "Thank you for registering on Mesa."
    )
    send_mail(
        user.email,
        "Confirm your e-mail address for Mesa",
        f"{intro}\n\nTo confirm your address and activate your account, open this link "
        f"(valid {hours} hours, once):\n\n{link}\n\n"
        "If you did not register, ignore this message: nothing happens without the link.\n",
    )


def request_registration(
    email: str,
    display_name: str,
    password: str,
    *,
    organisation_name: str | None = None,
    organisation_category: str | None = None,
    governance_level: str | None = None,
    individual_category: str = "other",
) -> User | None:
    """Self-registration. The answer does not tell whether the address was known:

    - a new address gets an unconfirmed account and a confirmation link by e-mail;
    - a known address gets no new account; its owner is e-mailed instead (a new
      confirmation link if the account is still unconfirmed, otherwise a note with the
      login and password-reset links).

    Returns the new user, or None when the address was already registered (for tests and
    logs only: the view shows the same page in both cases).
    """
    from ..organisations.services import create_organisation

    problem = password_problem(password, email=email)
    if problem:
        raise AccountError(problem, "password")
    existing = find_by_email(email)
    if existing is None:
        organisation = None
        if organisation_name:
            organisation = create_organisation(organisation_name, organisation_category, governance_level or None)
        user = register_user(
            email,
            display_name,
            password,
            organisation=organisation,
            individual_category=individual_category or "other",
            confirmed=False,
        )
        _send_confirmation(user)
        return user
    if organisation_name:
        _check_new_organisation(organisation_name, organisation_category, governance_level or None)
    # Spend the time hashing a password costs, as the new-account branch does.
    generate_password_hash(password)
    if not existing.email_confirmed:
        _send_confirmation(existing, again=True)
    else:
        send_mail(
            existing.email,
            "Someone tried to register on Mesa with your address",
            "Someone (probably you) tried to create a Mesa account with this e-mail address, "
            "but you already have one: no new account was created.\n\n"
            f"Log in: {absolute_url('accounts.login')}\n"
            f"Forgot your password? Reset it: {absolute_url('accounts.forgot_password')}\n\n"
            "If it was not you, you can ignore this message.\n",
        )
    return None


def confirm_email(secret: str) -> User | None:
    token = valid_token(secret, "confirm_email")
    if token is None:
        return None
    user = token.user
    if user.email_confirmed_at is None:
        user.email_confirmed_at = utcnow()
    _use_tokens(user, "confirm_email")
    db.session.flush()
    return user


def request_password_reset(email: str) -> None:
    """E-mail a reset link if the address has an account; do nothing visible otherwise."""
    user = find_by_email(email)
    if user is None:
        return
    link = absolute_url("accounts.reset_password", token=issue_token(user, "reset_password"))
    minutes = current_app.config["MESA_RESET_SECONDS"] // 60
    send_mail(
        user.email,
        "Reset your Mesa password",
        f"To choose a new password, open this link (valid {minutes} minutes, once):\n\n{link}\n\n"
        "If you did not ask for this, ignore this message: your password stays as it is.\n",
    )


def reset_password(secret: str, new_password: str) -> User:
    token = valid_token(secret, "reset_password")
    if token is None:
        raise AccountError(_("This link has expired or was already used. Ask for a new one."), "new_password")
    user = token.user
    problem = password_problem(new_password, email=user.email)
    if problem:
        raise AccountError(problem, "new_password")
    user.set_password(new_password)
    user.end_sessions()
    # Following a link sent to the address proves the address.
    if user.email_confirmed_at is None:
        user.email_confirmed_at = utcnow()
    _use_tokens(user, "reset_password")
    record(user, "account.password_reset", target=user)
    db.session.flush()
    return user


# -- your data --------------------------------------------------------------------

def _iso(value):
    return value.isoformat() if value is not None else None


def export_personal_data(user: User) -> dict:
    """Everything stored about ``user``, as JSON-ready data (the caller records the export)."""
    from ..consultations.models import Consultation
    from ..contributions.models import Contribution
    from ..roundtables.models import Registration, Roundtable

    org = user.organisation
    contributions = db.session.scalars(
        select(Contribution).where(Contribution.author_id == user.id).order_by(Contribution.id)
    ).all()
    registrations = db.session.scalars(
        select(Registration).where(Registration.registered_by_id == user.id).order_by(Registration.id)
    ).all()
    organised = db.session.scalars(
        select(Consultation).where(Consultation.organisers.any(User.id == user.id)).order_by(Consultation.id)
    ).all()
    facilitated = db.session.scalars(
        select(Roundtable).where(Roundtable.facilitators.any(User.id == user.id)).order_by(Roundtable.id)
    ).all()
    return {
        "format": "mesa-personal-data/1",
        "exported_at": _iso(utcnow()),
        "account": {
            "id": user.id,
            "email": user.email,
            "display_name": user.display_name,
            "role": user.role,
            "individual_category": user.individual_category,
            "created_at": _iso(user.created_at),
            "email_confirmed_at": _iso(user.email_confirmed_at),
            "password": "stored only as a salted hash (scrypt); not included",
        },
        "organisation": None
        if org is None
        else {"id": org.id, "name": org.name, "category": org.category, "governance_level": org.governance_level},
        "contributions": [
            {
                "id": c.id,
                "consultation": {"id": c.consultation_id, "title": c.consultation.title},
                "kind": c.kind,
                "title": c.title,
                "body_markdown": c.body_md,
                "status": c.status,
                "objectives": c.objective_numbers,
                "principles": c.principle_keys,
                "stakeholder_category": c.stakeholder_category,
                "governance_level": c.governance_level,
                "organisation_name": c.organisation_name,
                "name_organisation": c.name_organisation,
                "captured_at_roundtable": c.captured,
                "roundtable_id": c.roundtable_id,
                "created_at": _iso(c.created_at),
                "updated_at": _iso(c.updated_at),
            }
            for c in contributions
        ],
        "roundtable_registrations": [
            {
                "id": r.id,
                "roundtable": {"id": r.roundtable_id, "title": r.roundtable.title},
                "name": r.name,
                "show_name": r.show_name,
                "stakeholder_category": r.stakeholder_category,
                "governance_level": r.governance_level,
                "status": r.status,
                "attended": r.attended,
                "created_at": _iso(r.created_at),
                "cancelled_at": _iso(r.cancelled_at),
            }
            for r in registrations
        ],
        "consultations_organised": [{"id": c.id, "title": c.title} for c in organised],
        "roundtables_facilitated": [{"id": r.id, "title": r.title} for r in facilitated],
        "audit_log": [
            {
                "at": _iso(e.created_at),
                "action": e.action,
                "by_you": e.actor_id == user.id,
                "target": {"type": e.target_type, "id": e.target_id} if e.target_type else None,
                "details": e.details,
            }
            for e in events_about_user(user.id)
        ],
    }


def deletion_refusal(user: User) -> str | None:
    """Why ``user``'s account may not be deleted now, or None."""
    from ..consultations.models import Consultation, consultation_organisers

    if user.role == "admin" and count_admins() <= 1:
        return _("You are the last administrator: make someone else administrator before deleting your account.")
    organisers = (
        select(func.count())
        .select_from(consultation_organisers)
        .where(consultation_organisers.c.consultation_id == Consultation.id)
        .scalar_subquery()
    )
    sole = db.session.scalar(
        select(func.count())
        .select_from(Consultation)
        .where(Consultation.organisers.any(User.id == user.id), organisers == 1)
    )
    if sole:
        return ngettext(
            "You are the only organiser of %(num)s consultation: add another organiser to it before deleting your account.",
            "You are the only organiser of %(num)s consultations: add another organiser to each before deleting your account.",
            sole,
        )
    return None


def delete_account(user: User, *, keep_contributions: bool) -> dict:
    """Delete ``user``'s account. Their contributions are deleted, or kept without author.

    Kept contributions keep their stakeholder category and governance level (what the
    consultation's results are made of) and lose the author; the organisation (id and
    name) is kept only where the author had agreed to show it. Contributions captured at
    a roundtable record what others said and are always kept, without author.
    Registrations they made for roundtables stay for the attendance counts, without
    name and without the link to them. Returns counts for the caller to report.
    """
    from ..contributions.models import Contribution
    from ..roundtables.models import Registration

    refusal = deletion_refusal(user)
    if refusal:
        raise AccountError(refusal, "confirm")
    user_id = user.id
    mine = Contribution.author_id == user_id
    deleted = 0
    if not keep_contributions:
        deleted = db.session.execute(
            delete(Contribution).where(mine, Contribution.captured == false()),
            execution_options={"synchronize_session": False},
        ).rowcount
    kept = db.session.execute(
        update(Contribution)
        .where(mine)
        .values(
            author_id=None,
            organisation_id=case((Contribution.name_organisation == false(), None), else_=Contribution.organisation_id),
            organisation_name=case(
                (Contribution.name_organisation == false(), None), else_=Contribution.organisation_name
            ),
        ),
        execution_options={"synchronize_session": False},
    ).rowcount
    db.session.execute(
        update(Registration)
        .where(Registration.registered_by_id == user_id)
        .values(registered_by_id=None, name="", show_name=False, person_key=literal("deleted:", String) + cast(Registration.id, String))
        .execution_options(synchronize_session=False)
    )
    reports = _remove_reports(user_id)
    organisation_id = user.organisation_id
    db.session.delete(user)
    db.session.flush()
    organisation_deleted = organisation_id is not None and _delete_organisation_if_unneeded(organisation_id)
    record(
        user_id,
        "account.deleted",
        target=("user", user_id),
        contributions="kept" if keep_contributions else "deleted",
        contributions_deleted=deleted,
        contributions_kept=kept,
        reports_removed=reports,
        organisation_deleted=organisation_deleted,
    )
    db.session.flush()
    db.session.expire_all()
    return {"deleted": deleted, "kept": kept, "reports": reports, "organisation_deleted": organisation_deleted}


def _remove_reports(user_id: int) -> int:
    """The reports (flags) the person made: their text goes. A report the organisers have
    dealt with is deleted; an open one stays, without text or link to the person, so the
    contribution is still looked at. Returns how many."""
    from ..contributions.models import Flag

    mine = Flag.reporter_id == user_id
    closed = db.session.execute(
        delete(Flag).where(mine, Flag.resolved == true()), execution_options={"synchronize_session": False}
    ).rowcount
    still_open = db.session.execute(
        update(Flag).where(mine).values(reason="", reporter_id=None), execution_options={"synchronize_session": False}
    ).rowcount
    return closed + still_open


def _delete_organisation_if_unneeded(organisation_id: int) -> bool:
    """Delete the organisation of a deleted account (the one made when registering, with
    its name) unless something still needs it: another member, a contribution that
    records it (one by someone else, or a kept one whose author chose to show its name),
    an invitation to a consultation, a seat on a standing body, or a roundtable
    registration made by someone else."""
    from ..consultations.models import consultation_invitations
    from ..contributions.models import Contribution
    from ..roundtables.models import CouncilMember, Registration

    def used(stmt) -> bool:
        return db.session.scalar(select(stmt.exists())) is True

    if (
        used(select(User.id).where(User.organisation_id == organisation_id))
        or used(select(Contribution.id).where(Contribution.organisation_id == organisation_id))
        or used(select(consultation_invitations.c.consultation_id).where(
            consultation_invitations.c.organisation_id == organisation_id))
        or used(select(CouncilMember.id).where(CouncilMember.organisation_id == organisation_id))
        or used(select(Registration.id).where(Registration.organisation_id == organisation_id,
                                              Registration.registered_by_id.is_not(None)))
    ):
        return False
    db.session.execute(delete(Organisation).where(Organisation.id == organisation_id),
                       execution_options={"synchronize_session": False})
    return True


def purge_unconfirmed(older_than_days: int) -> int:
    """Delete the accounts whose e-mail address was never confirmed, registered more
    than ``older_than_days`` ago: they never could log in, and keeping an address
    nobody proved to own is keeping personal data for nothing. Returns how many."""
    cutoff = utcnow() - timedelta(days=older_than_days)
    stale = list(
        db.session.scalars(select(User).where(User.email_confirmed_at.is_(None), User.created_at < cutoff))
    )
    for user in stale:
        delete_account(user, keep_contributions=False)
    return len(stale)
