from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import TextAreaField
from wtforms.validators import DataRequired, Length

from ..forms import no_control_characters, strip_filter


class ReasonForm(FlaskForm):
    reason = TextAreaField(
        "Reason",
        filters=[strip_filter],
        validators=[DataRequired(message="Give a reason."), Length(max=1000), no_control_characters],
    )


class FlagForm(ReasonForm):
    reason = TextAreaField(
        "What is wrong with this contribution?",
        filters=[strip_filter],
        validators=[DataRequired(message="Say what is wrong."), Length(max=1000), no_control_characters],
        description="Organisers read reports. Your identity is not recorded.",
    )


class HideForm(ReasonForm):
    reason = TextAreaField(
        "Reason for hiding (shown to the author)",
        filters=[strip_filter],
        validators=[DataRequired(message="Give the reason, for the author."), Length(max=1000), no_control_characters],
    )


class ActionForm(FlaskForm):
    """CSRF token only."""
