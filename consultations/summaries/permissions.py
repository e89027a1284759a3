"""Who may read, edit, publish and compile summaries: small named predicates.

- Organisers of a consultation and admins see its live summary (drafts included),
  edit the narrative and publish versions.
- Reviewers (government staff) and admins read and download the live summary of every
  consultation that is not a draft, and build national compilations over them.
  Organisers may compile over the consultations they organise.
- Reviewers and admins keep saved national summaries (narrative, pins, versions): only
  they see them, published versions included.
- Published versions are public once the consultation itself is published: anyone who
  can see the consultation reads and downloads them. While it is closed, every signed-in
  person who can see it reads them too; before that, only those who read the live summary.
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
    """Published versions: public once the consultation is published; while it is
    closed, readable by every signed-in person who can see it (a non-organiser asking
    for the summary of a closed consultation is sent to the published version)."""
    if can_read_live_summary(user, consultation):
        return True
    if consultation.state == "published":
        return can_view_consultation(user, consultation)
    return consultation.state == "closed" and _authenticated(user) and can_view_consultation(user, consultation)


def can_compile(user) -> bool:
    """May open the national compilation page at all."""
    return _authenticated(user) and user.role in ("admin", "reviewer", "organiser")


def can_keep_national(user) -> bool:
    """May create, edit, publish and download saved national summaries (all of them:
    government reviewers work on them together)."""
    return _authenticated(user) and user.role in ("admin", "reviewer")
