"""Reference data: GCM objectives and guiding principles (loaded from data/gcm.json),
stakeholder categories, governance levels, consultation kinds and contribution kinds.

The labels are English and are the gettext message ids: they are translated when shown
(``gettext(label)``, ``TranslatedLabels``), so stored data and exports keep stable keys.
The GCM titles are extracted for translation from ``gcm_messages.py``."""
from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources

from flask_babel import gettext


def N_(message: str) -> str:
    """Marks a string for extraction (``pybabel extract -k N_``); translated when shown."""
    return message


class TranslatedLabels(Mapping):
    """A read-only view of a key -> English label dict whose labels come out translated
    into the current interface language."""

    def __init__(self, labels: Mapping):
        self._labels = labels

    def __getitem__(self, key):
        return gettext(self._labels[key])

    def __iter__(self):
        return iter(self._labels)

    def __len__(self) -> int:
        return len(self._labels)


@dataclass(frozen=True)
class Objective:
    number: int
    title_en: str

    @property
    def title(self) -> str:
        """In the interface language (the official English wording is the message id)."""
        return gettext(self.title_en)

    @property
    def label(self) -> str:
        return f"{self.number}. {self.title}"


@dataclass(frozen=True)
class Principle:
    key: str
    title_en: str

    @property
    def title(self) -> str:
        return gettext(self.title_en)


@lru_cache(maxsize=1)
def _gcm() -> dict:
    with resources.files("consultations").joinpath("data/gcm.json").open(encoding="utf-8") as fh:
        return json.load(fh)


@lru_cache(maxsize=1)
def objectives() -> tuple[Objective, ...]:
    return tuple(Objective(o["number"], o["title"]) for o in _gcm()["objectives"])


@lru_cache(maxsize=1)
def objectives_by_number() -> dict[int, Objective]:
    return {o.number: o for o in objectives()}


def objective(number: int) -> Objective | None:
    return objectives_by_number().get(number)


@lru_cache(maxsize=1)
def principles() -> tuple[Principle, ...]:
    return tuple(Principle(p["key"], p["title"]) for p in _gcm()["guiding_principles"])


@lru_cache(maxsize=1)
def principles_by_key() -> dict[str, Principle]:
    return {p.key: p for p in principles()}


OBJECTIVE_COUNT = 23

STAKEHOLDER_CATEGORIES: dict[str, str] = {
    "migrant_association": N_("Migrant association"),
    "diaspora_organisation": N_("Diaspora organisation"),
    "ngo": N_("NGO"),
    "trade_union": N_("Trade union"),
    "employers_organisation": N_("Employers' organisation"),
    "academia": N_("Academia / research"),
    "international_organisation": N_("International organisation"),
    "public_administration": N_("Public administration"),
    "other": N_("Other"),
}

GOVERNANCE_LEVELS: dict[str, str] = {
    "municipal": N_("Municipal"),
    "provincial": N_("Provincial"),
    "regional": N_("Regional"),
    "national": N_("National"),
}

CONSULTATION_KINDS: dict[str, str] = {
    "civil_society_day": N_("Civil-society consultation day"),
    "regional_platform": N_("Regional multi-stakeholder platform"),
    "local_council": N_("Local council on immigration"),
    "inter_administration_day": N_("Inter-administration working day"),
    "online_call": N_("Online call for input"),
}

CONTRIBUTION_KINDS: dict[str, str] = {
    "challenge": N_("Challenge"),
    "proposal": N_("Proposal"),
    "good_practice": N_("Good practice"),
}

LANGUAGES: dict[str, str] = {
    "en": N_("English"),
    "es": N_("Spanish"),
    "pt": N_("Portuguese"),
    "fr": N_("French"),
    "ar": N_("Arabic"),
    "ca": N_("Catalan"),
    "eu": N_("Basque"),
    "gl": N_("Galician"),
}


# The groups a summary publishes instead of a stakeholder category (see
# docs/summaries.md, "Privacy"): categories it does not name, and anonymous input.
SUMMARY_GROUPS: dict[str, str] = {
    "combined": N_("Other categories (combined)"),
    "anonymous": N_("Anonymous input"),
}


def category_label(key: str | None) -> str:
    label = STAKEHOLDER_CATEGORIES.get(key or "") or SUMMARY_GROUPS.get(key or "")
    return gettext(label) if label else (key or "")


def level_label(key: str | None) -> str:
    label = GOVERNANCE_LEVELS.get(key or "")
    return gettext(label) if label else (key or "")


def voice_label(category: str | None, level: str | None) -> str:
    """'Public administration (regional)' or 'NGO'."""
    label = category_label(category)
    if level:
        label = gettext("%(category)s (%(level)s)", category=label, level=level_label(level).lower())
    return label
