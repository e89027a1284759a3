from flask_wtf import FlaskForm


class RetryForm(FlaskForm):
    """Try a failed job again: a button, protected by the CSRF token."""
