# Gunicorn settings for Mesa (read automatically when gunicorn starts in this folder).
# The access log leaves out the client address (%(h)s) for every request: people who
# contribute without an account must leave no trace, and the other routes do not need it.
accesslog = "-"

# No web request does heavy work: Word, PDF and spreadsheet files are made by the job
# workers (flask --app app worker), so a request that takes longer than this is stuck.
# The worker is then killed and replaced (the client gets an error, the others carry on);
# on SIGTERM (deploy, restart) requests in flight get graceful_timeout seconds to finish.
timeout = 30
graceful_timeout = 20
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


def when_ready(server):
    """Warn loudly when several workers throttle with in-memory counters: each worker
    counts on its own, so N workers let N times the configured failed logins through."""
    import os
    import re

    enabled = os.environ.get("MESA_RATELIMIT_ENABLED", "1").strip().lower() in {"1", "true", "yes", "on"}
    store = os.environ.get("MESA_RATELIMIT_STORAGE_URI", "memory://")
    workers = server.cfg.workers
    if enabled and workers > 1 and store.startswith("memory:"):
        limit = os.environ.get("MESA_LIMIT_LOGIN_ACCOUNT", "10 per 15 minutes")
        count = int(match.group()) if (match := re.match(r"\s*(\d+)", limit)) else 10
        server.log.warning(
            "THROTTLING LIMITS ARE PER WORKER: %d workers count failed logins in their own "
            "memory (MESA_RATELIMIT_STORAGE_URI=%s), so the limit of %s failed logins per "
            "account lets up to %d through. Share the counters in Redis: "
            "MESA_RATELIMIT_STORAGE_URI=redis://127.0.0.1:6379 (docs/operations.md, Production).",
            workers, store, limit, count * workers,
        )
