# Gunicorn settings for Mesa (read automatically when gunicorn starts in this folder).
# The access log leaves out the client address (%(h)s) for every request: people who
# contribute without an account must leave no trace, and the other routes do not need it.
accesslog = "-"
access_log_format = '- - %(t)s "%(r)s" %(s)s %(b)s %(L)ss'


# Requests of people who contribute without an account (/c/<token>, the secret-code page
# /contributions/<id>/code) leave no access-log line at all: even without the address,
# its time and path would date an anonymous contribution (consultations/logprivacy.py).
from gunicorn.glogging import Logger as _Logger  # noqa: E402

from consultations.logprivacy import is_anonymous_path  # noqa: E402


class MesaLogger(_Logger):
    def access(self, resp, req, environ, request_time):
        if is_anonymous_path(environ.get("PATH_INFO") or getattr(req, "path", None)):
            return
        super().access(resp, req, environ, request_time)


logger_class = MesaLogger
