"""The public voice of a contribution: who spoke, as every page, summary and download
shows it. One function, so that a contribution is never credited differently in two
places (input collected on behalf of others is the people's voice, not the association's).

- an ordinary contribution: "NGO", "Public administration (regional)", or
  "Red Acoge — NGO" when the contributor agreed that the organisation be named;
- input collected on behalf of people without an account: "Other, collected by
  Asociación X" (the association only when it agreed to be named, else "collected by
  an association"): the category is the people's, never the association's;
- anonymous input: "Anonymous (NGO)": no organisation is ever attached to it.
"""
from __future__ import annotations

from flask_babel import gettext

from ..reference import voice_label


def voice(
    category: str | None,
    level: str | None = None,
    *,
    organisation: str | None = None,
    named: bool = False,
    on_behalf: bool = False,
    anonymous: bool = False,
    category_text: str | None = None,
) -> str:
    """The public voice. ``organisation`` is shown only when ``named`` (the contributor's
    consent). ``category_text`` replaces the category label (a summary that does not
    name a small category passes "Other categories (combined)")."""
    label = category_text if category_text is not None else voice_label(category, level)
    organisation = organisation if (named and organisation) else None
    if anonymous:
        return gettext("Anonymous (%(voice)s)", voice=label)
    if on_behalf:
        if organisation:
            return gettext("%(voice)s, collected by %(organisation)s", voice=label, organisation=organisation)
        return gettext("%(voice)s, collected by an association", voice=label)
    if organisation:
        return f"{organisation} — {label}"
    return label


def collected_by(organisation: str | None, *, named: bool, on_behalf: bool) -> str | None:
    """For input collected on behalf of others: the association that collected it when it
    agreed to be named, "an association" otherwise; None for everything else."""
    if not on_behalf:
        return None
    return organisation if (named and organisation) else gettext("an association")


def voice_of(contribution) -> str:
    """The public voice of a Contribution (ORM object or row with the same attributes)."""
    return voice(
        contribution.stakeholder_category,
        contribution.governance_level,
        organisation=contribution.organisation_name,
        named=bool(contribution.name_organisation),
        on_behalf=bool(getattr(contribution, "on_behalf", False)),
        anonymous=bool(getattr(contribution, "anonymous", False)),
    )
