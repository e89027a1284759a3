"""Which requests leave no line in any access log: those of people who contribute
without an account (the firewall, docs/security.md).

A line for such a request, even without the address, would give the time of an
anonymous submission, edit or withdrawal, and its path names the consultation's link or
the contribution. A line kept without time or path would still sit between two dated
lines of the log, so they are left out altogether. This module imports nothing from the
app so that ``gunicorn.conf.py`` can use it.
"""
from __future__ import annotations

import logging
import re

# The link a consultation hands out (/c/<token>) and the page where an anonymous author
# changes or withdraws a contribution with the secret code (and where they land after).
# Repeated slashes count too (the router redirects "//c/x" to "/c/x").
ANONYMOUS_PATH = re.compile(r"^/+(?:c/|contributions/+\d+/+code(?:[/?]|$))")
# The same paths inside a log message: '"POST /c/abc HTTP/1.1" 201 -', possibly coloured.
_IN_MESSAGE = re.compile(r"(?<![A-Z])[A-Z]{3,10}\s+(/+(?:c/|contributions/+\d+/+code)\S*)")


def is_anonymous_path(path: str | None) -> bool:
    return bool(path) and bool(ANONYMOUS_PATH.match(path))


def names_anonymous_route(message: str) -> bool:
    return bool(_IN_MESSAGE.search(message or ""))


def redact(message: str) -> str:
    """``message`` with the paths of anonymous routes replaced by a placeholder."""
    message = _IN_MESSAGE.sub(lambda m: m.group(0).replace(m.group(1), "[anonymous route]"), message)
    return re.sub(r"/+(?:c/[^\s\]\"']+|contributions/+\d+/+code\S*)", "[anonymous route]", message)


class AnonymousRouteLogFilter(logging.Filter):
    """For the development server's access log (the ``werkzeug`` logger): a request to an
    anonymous route is not logged. The record is also stripped of the client address
    and time first, so that nothing that keeps the record after a filter said no (a
    handler's own filters, a test) sees them."""

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # a malformed record: leave it to the logging module
            return True
        if not names_anonymous_route(message):
            return True
        _, sep, rest = message.partition(" - - ")
        if sep:
            rest = re.sub(r"^\[[^\]]*\]\s*", "", rest)  # the time
            record.msg, record.args = "- - - " + rest, ()
        return False


class RedactAnonymousRoutes(logging.Filter):
    """For Mesa's own log (the ``consultations`` logger, where Flask logs an exception as
    "Exception on /c/<token> [POST]"): the error is kept, the path is not."""

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:
            return True
        if "/c/" in message or "/code" in message:
            redacted = redact(message)
            if redacted != message:
                record.msg, record.args = redacted, ()
        return True
