from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import DateField, SelectField, StringField
from wtforms.validators import Length, Optional, ValidationError

from ..forms import strip_filter
from flask_babel import gettext as _, lazy_gettext as _l


class AuditFilterForm(FlaskForm):
    """Filters in the query string (a GET form: no CSRF token, nothing changes)."""

    class Meta:
        csrf = False

    action = SelectField(_l("Action"), choices=[], validate_choice=True, default="")
    actor = StringField(
        _l("Who acted"),
        filters=[strip_filter],
        validators=[Optional(), Length(max=254)],
        description=_l("An e-mail address, or an account number such as 12 (deleted accounts keep their number)."),
    )
    date_from = DateField(_l("From"), validators=[Optional()])
    date_to = DateField(_l("To (inclusive)"), validators=[Optional()])

    def validate_date_to(self, field):
        if field.data and self.date_from.data and field.data < self.date_from.data:
            raise ValidationError(_("The end date is before the start date."))
