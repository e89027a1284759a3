from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField


class RetryForm(FlaskForm):
    """Try a failed job again: a button, protected by the CSRF token."""


class NotifyForm(FlaskForm):
    """On the page of a job being made: e-mail me a link to this page when it is ready."""

    notify = BooleanField(_l("E-mail me a link to this page when the file is ready"))
