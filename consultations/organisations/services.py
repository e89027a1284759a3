"""Organisations and their stakeholder category."""
from __future__ import annotations

from sqlalchemy import func, select

from ..extensions import db
from ..reference import GOVERNANCE_LEVELS, STAKEHOLDER_CATEGORIES
from .models import Organisation
from flask_babel import gettext as _


class OrganisationError(ValueError):
    def __init__(self, message: str, field: str | None = None):
        super().__init__(message)
        self.field = field


def find_by_name(name: str) -> Organisation | None:
    return db.session.scalar(
        select(Organisation).where(func.lower(Organisation.name) == name.strip().lower())
    )


def create_organisation(name: str, category: str, governance_level: str | None = None) -> Organisation:
    name = name.strip()
    if not name:
        raise OrganisationError(_("Give the organisation's name."), "organisation_name")
    if category not in STAKEHOLDER_CATEGORIES:
        raise OrganisationError(_("Choose a stakeholder category."), "organisation_category")
    governance_level = governance_level or None
    if category == "public_administration":
        if governance_level not in GOVERNANCE_LEVELS:
            raise OrganisationError(_("A public administration needs its governance level."), "governance_level")
    elif governance_level is not None:
        raise OrganisationError(_("Only public administrations have a governance level."), "governance_level")
    if find_by_name(name) is not None:
        raise OrganisationError(
            _("This organisation is already registered. Ask an administrator to add you to it."),
            "organisation_name",
        )
    org = Organisation(name=name, category=category, governance_level=governance_level)
    db.session.add(org)
    db.session.flush()
    return org


def all_organisations_choices() -> list[tuple[int, str]]:
    rows = db.session.execute(select(Organisation.id, Organisation.name).order_by(Organisation.name))
    return [(row.id, row.name) for row in rows]


def list_organisations(category: str | None = None):
    stmt = select(Organisation).order_by(Organisation.name)
    if category:
        stmt = stmt.where(Organisation.category == category)
    return stmt
