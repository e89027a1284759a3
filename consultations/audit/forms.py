from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import DateField, SelectField, StringField
from wtforms.validators import Length, Optional, ValidationError

from ..forms import strip_filter


class AuditFilterForm(FlaskForm):
    """Filters in the query string (a GET form: no CSRF token, nothing changes)."""

    class Meta:
        csrf = False

    action = SelectField("Action", choices=[], validate_choice=True, default="")
    actor = StringField(
        "Who acted",
        filters=[strip_filter],
        validators=[Optional(), Length(max=254)],
        description="An e-mail address, or an account number such as 12 (deleted accounts keep their number).",
    )
    date_from = DateField("From", validators=[Optional()])
    date_to = DateField("To (inclusive)", validators=[Optional()])

    def validate_date_to(self, field):
        if field.data and self.date_from.data and field.data < self.date_from.data:
            raise ValidationError("The end date is before the start date.")
