"""Who may read, edit, publish and compile summaries: small named predicates.

- Organisers of a consultation and admins see its live summary (drafts included),
  edit the narrative and publish versions.
- Reviewers (government staff) and admins read and download the live summary of every
  consultation that is not a draft, and build national compilations over them.
  Organisers may compile over the consultations they organise.
- Published versions are public once the consultation itself is published: anyone who
  can see the consultation reads and downloads them. Before that, only those who read
  the live summary see its versions.
"""
from __future__ import annotations

from ..permissions import can_manage_consultation, can_review, can_view_consultation


def _authenticated(user) -> bool:
    return user is not None and getattr(user, "is_authenticated", False)


def can_manage_summary(user, consultation) -> bool:
    return can_manage_consultation(user, consultation)


def can_read_live_summary(user, consultation) -> bool:
    if can_manage_summary(user, consultation):
        return True
    return can_review(user) and consultation.state != "draft"


def can_read_published_summary(user, consultation) -> bool:
    if can_read_live_summary(user, consultation):
        return True
    return consultation.state == "published" and can_view_consultation(user, consultation)


def can_compile(user) -> bool:
    """May open the national compilation page at all."""
    return _authenticated(user) and user.role in ("admin", "reviewer", "organiser")
