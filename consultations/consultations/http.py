"""Loading what a view works on, with the permission checks that go with it.

Everything belongs to a consultation. A refusal to *see* it is a 404, because the existence
of drafts and of withdrawn or hidden contributions is secret; a refusal to *manage* what one
may see is a 403. The rules themselves are the predicates in ``consultations.permissions``.
"""
from __future__ import annotations

from typing import Callable, TypeVar

from flask_login import current_user

from ..contributions.models import Contribution
from ..extensions import db
from ..http import fail
from ..permissions import can_manage_consultation, can_view_consultation, can_view_contribution
from .models import Consultation

T = TypeVar("T")


def consultation_of(obj) -> Consultation:
    """The consultation ``obj`` belongs to (a consultation belongs to itself)."""
    return obj if isinstance(obj, Consultation) else obj.consultation


def visible_or_404(model: type[T], object_id: int, *options) -> T:
    """The ``model`` row with ``object_id`` (loaded with ``options``), or 404 if there is none or
    the current user may not see it: a contribution by ``can_view_contribution``, anything else
    by ``can_view_consultation`` of its consultation."""
    obj = db.session.get(model, object_id, options=options)
    if obj is None:
        fail(404)
    if isinstance(obj, Contribution):
        visible = can_view_contribution(current_user, obj)
    else:
        visible = can_view_consultation(current_user, consultation_of(obj))
    if not visible:
        fail(404)
    return obj


def managed_or_403(
    model: type[T],
    object_id: int,
    *,
    may: Callable[..., bool] = can_manage_consultation,
    message: str | None = None,
) -> T:
    """As ``visible_or_404``, then 403 (showing ``message``) unless ``may(current_user, consultation)``
    allows the current user to manage the consultation the row belongs to."""
    obj = visible_or_404(model, object_id)
    if not may(current_user, consultation_of(obj)):
        fail(403, message)
    return obj
