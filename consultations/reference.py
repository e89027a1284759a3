"""Reference data: GCM objectives and guiding principles (loaded from data/gcm.json),
stakeholder categories, governance levels, consultation kinds and contribution kinds."""
from __future__ import annotations

import json
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources


@dataclass(frozen=True)
class Objective:
    number: int
    title: str

    @property
    def label(self) -> str:
        return f"{self.number}. {self.title}"


@dataclass(frozen=True)
class Principle:
    key: str
    title: str


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
    "migrant_association": "Migrant association",
    "diaspora_organisation": "Diaspora organisation",
    "ngo": "NGO",
    "trade_union": "Trade union",
    "employers_organisation": "Employers' organisation",
    "academia": "Academia / research",
    "international_organisation": "International organisation",
    "public_administration": "Public administration",
    "other": "Other",
}

GOVERNANCE_LEVELS: dict[str, str] = {
    "municipal": "Municipal",
    "provincial": "Provincial",
    "regional": "Regional",
    "national": "National",
}

CONSULTATION_KINDS: dict[str, str] = {
    "civil_society_day": "Civil-society consultation day",
    "regional_platform": "Regional multi-stakeholder platform",
    "local_council": "Local council on immigration",
    "inter_administration_day": "Inter-administration working day",
    "online_call": "Online call for input",
}

CONTRIBUTION_KINDS: dict[str, str] = {
    "challenge": "Challenge",
    "proposal": "Proposal",
    "good_practice": "Good practice",
}

LANGUAGES: dict[str, str] = {
    "en": "English",
    "es": "Spanish",
    "pt": "Portuguese",
    "fr": "French",
    "ar": "Arabic",
    "ca": "Catalan",
    "eu": "Basque",
    "gl": "Galician",
}


def category_label(key: str | None) -> str:
    return STAKEHOLDER_CATEGORIES.get(key or "", key or "")


def level_label(key: str | None) -> str:
    return GOVERNANCE_LEVELS.get(key or "", key or "")


def voice_label(category: str | None, level: str | None) -> str:
    """'Public administration (regional)' or 'NGO'."""
    label = category_label(category)
    if level:
        label += f" ({level_label(level).lower()})"
    return label
