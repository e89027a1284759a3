from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import TextAreaField
from wtforms.validators import DataRequired, Length

from ..forms import no_control_characters, strip_filter
from flask_babel import lazy_gettext as _l


class ReasonForm(FlaskForm):
    reason = TextAreaField(
        _l("Reason"),
        filters=[strip_filter],
        validators=[DataRequired(message=_l("Give a reason.")), Length(max=1000), no_control_characters],
    )


class FlagForm(ReasonForm):
    reason = TextAreaField(
        _l("What is wrong with this contribution?"),
        filters=[strip_filter],
        validators=[DataRequired(message=_l("Say what is wrong.")), Length(max=1000), no_control_characters],
        description=_l("Organisers read reports. Your identity is not recorded."),
    )


class HideForm(ReasonForm):
    reason = TextAreaField(
        _l("Reason for hiding (shown to the author)"),
        filters=[strip_filter],
        validators=[DataRequired(message=_l("Give the reason, for the author.")), Length(max=1000), no_control_characters],
    )


class ActionForm(FlaskForm):
    """CSRF token only."""
