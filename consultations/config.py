"""Configuration from environment variables, with safe defaults."""
from __future__ import annotations

import os
import secrets
from pathlib import Path


def normalise_database_url(url: str) -> str:
    """Accept the URL forms hosting platforms hand out and use psycopg 3 for PostgreSQL."""
    if url.startswith("postgres://"):
        url = "postgresql://" + url[len("postgres://"):]
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url[len("postgresql://"):]
    return url


def load_secret_key(instance_path: str) -> str:
    """SECRET_KEY from the environment, else a random key kept in instance/secret_key.

    The key is generated on first run and reused afterwards so that sessions survive
    restarts; it is never a constant in the code.
    """
    key = os.environ.get("SECRET_KEY") or os.environ.get("MESA_SECRET_KEY")
    if key:
        return key
    path = Path(instance_path) / "secret_key"
    if path.exists():
        existing = path.read_text().strip()
        if existing:
            return existing
    key = secrets.token_urlsafe(48)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as fh:
        fh.write(key)
    return key


def _bool(name: str, default: bool = False) -> bool:
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


# Seconds to wait for the rate-limit store (Redis) to connect or answer before counting
# in memory instead: a store that hangs must not hang the log-in form.
RATELIMIT_STORAGE_TIMEOUT = 0.5


def ratelimit_storage_options(uri: str) -> dict:
    """Connection options for the rate-limit store: short timeouts for Redis."""
    if uri.split(":", 1)[0] in {"redis", "rediss", "unix"}:
        return {"socket_connect_timeout": RATELIMIT_STORAGE_TIMEOUT, "socket_timeout": RATELIMIT_STORAGE_TIMEOUT}
    return {}


def from_environment(instance_path: str) -> dict:
    default_db = "sqlite:///" + str(Path(instance_path) / "mesa.sqlite3")
    ratelimit_storage = os.environ.get("MESA_RATELIMIT_STORAGE_URI", "memory://")
    secure_cookies = _bool("MESA_SECURE_COOKIES", False)
    return {
        "SECRET_KEY": load_secret_key(instance_path),
        "SQLALCHEMY_DATABASE_URI": normalise_database_url(
            os.environ.get("DATABASE_URL", default_db)
        ),
        # Bodies larger than this get a clear 413 page.
        "MAX_CONTENT_LENGTH": int(os.environ.get("MESA_MAX_CONTENT_LENGTH", 2 * 1024 * 1024)),
        "SESSION_COOKIE_HTTPONLY": True,
        "SESSION_COOKIE_SAMESITE": "Lax",
        "SESSION_COOKIE_SECURE": secure_cookies,
        "REMEMBER_COOKIE_HTTPONLY": True,
        "REMEMBER_COOKIE_SAMESITE": "Lax",
        "REMEMBER_COOKIE_SECURE": secure_cookies,
        "PERMANENT_SESSION_LIFETIME": int(os.environ.get("MESA_SESSION_SECONDS", 8 * 3600)),
        # However active, a session ends this long after the log-in (absolute lifetime).
        "MESA_SESSION_MAX_SECONDS": int(os.environ.get("MESA_SESSION_MAX_SECONDS", 24 * 3600)),
        "WTF_CSRF_TIME_LIMIT": int(os.environ.get("MESA_CSRF_SECONDS", 8 * 3600)),
        "MESA_PAGE_SIZE": int(os.environ.get("MESA_PAGE_SIZE", 20)),
        # Refuse to serve against a database whose schema is not at the latest migration.
        "MESA_CHECK_MIGRATIONS": True,
        # Behind N reverse proxies, trust N X-Forwarded-For/-Proto hops (for per-address limits).
        "MESA_PROXY_COUNT": int(os.environ.get("MESA_PROXY_COUNT", 0)),
        # Links in e-mails; set it in production so a forged Host header cannot change them.
        "MESA_BASE_URL": os.environ.get("MESA_BASE_URL", ""),
        # E-mail: console (printed to stderr, the default), smtp, or memory (tests).
        "MESA_MAIL_BACKEND": os.environ.get("MESA_MAIL_BACKEND", "console"),
        "MESA_MAIL_FROM": os.environ.get("MESA_MAIL_FROM", "Mesa <no-reply@localhost>"),
        "MESA_SMTP_HOST": os.environ.get("MESA_SMTP_HOST", "localhost"),
        "MESA_SMTP_PORT": int(os.environ.get("MESA_SMTP_PORT", 25)),
        "MESA_SMTP_STARTTLS": _bool("MESA_SMTP_STARTTLS", False),
        "MESA_SMTP_USER": os.environ.get("MESA_SMTP_USER", ""),
        "MESA_SMTP_PASSWORD": os.environ.get("MESA_SMTP_PASSWORD", ""),
        # Lifetime of the links sent by e-mail.
        "MESA_RESET_SECONDS": int(os.environ.get("MESA_RESET_SECONDS", 3600)),
        "MESA_CONFIRM_SECONDS": int(os.environ.get("MESA_CONFIRM_SECONDS", 48 * 3600)),
        # Throttling (Flask-Limiter). In memory by default: one counter per worker process;
        # with several workers, share them: MESA_RATELIMIT_STORAGE_URI=redis://127.0.0.1:6379
        "RATELIMIT_ENABLED": _bool("MESA_RATELIMIT_ENABLED", True),
        "RATELIMIT_STORAGE_URI": ratelimit_storage,
        "RATELIMIT_STORAGE_OPTIONS": ratelimit_storage_options(ratelimit_storage),
        "RATELIMIT_HEADERS_ENABLED": True,
        "RATELIMIT_KEY_PREFIX": os.environ.get("MESA_RATELIMIT_KEY_PREFIX", "mesa"),
        # A shared store that stops answering must not stop people logging in: the worker
        # counts in memory until the store is back (a warning in the log, /healthz says
        # "degraded"), and a counter that cannot be written is skipped, not a 500.
        "RATELIMIT_IN_MEMORY_FALLBACK_ENABLED": True,
        "RATELIMIT_SWALLOW_ERRORS": True,
        # Failed logins for one e-mail address / from one network address.
        "MESA_LIMIT_LOGIN_ACCOUNT": os.environ.get("MESA_LIMIT_LOGIN_ACCOUNT", "10 per 15 minutes"),
        # Generous: a consultation day puts dozens of people behind one address.
        "MESA_LIMIT_LOGIN_ADDRESS": os.environ.get("MESA_LIMIT_LOGIN_ADDRESS", "60 per 15 minutes"),
        "MESA_LIMIT_REGISTER_ADDRESS": os.environ.get("MESA_LIMIT_REGISTER_ADDRESS", "30 per hour"),
        # Wrong secret codes on an anonymous contribution's page, per contribution and per
        # network address (the address is counted under a keyed hash).
        "MESA_LIMIT_CODE_CONTRIBUTION": os.environ.get("MESA_LIMIT_CODE_CONTRIBUTION", "10 per hour"),
        "MESA_LIMIT_CODE_ADDRESS": os.environ.get("MESA_LIMIT_CODE_ADDRESS", "30 per 15 minutes"),
        "MESA_LIMIT_MAIL_ACCOUNT": os.environ.get("MESA_LIMIT_MAIL_ACCOUNT", "5 per hour"),
        "MESA_LIMIT_MAIL_ADDRESS": os.environ.get("MESA_LIMIT_MAIL_ADDRESS", "30 per hour"),
        # Background jobs (consultations/jobs/queue.py): the queue (default: a SQLite file in
        # the instance folder, no service to run; production: redis://...), its name, where
        # the files jobs make are kept, and for how long.
        "MESA_QUEUE_URL": os.environ.get("MESA_QUEUE_URL", ""),
        "MESA_QUEUE_NAME": os.environ.get("MESA_QUEUE_NAME", "mesa"),
        "MESA_FILES_DIR": os.environ.get("MESA_FILES_DIR", ""),
        "MESA_JOB_RETENTION_DAYS": int(os.environ.get("MESA_JOB_RETENTION_DAYS", 7)),
        # A running job whose worker gave no sign of life for this long is run again.
        "MESA_JOB_STALE_SECONDS": int(os.environ.get("MESA_JOB_STALE_SECONDS", 120)),
        "MESA_JOB_HEARTBEAT_SECONDS": float(os.environ.get("MESA_JOB_HEARTBEAT_SECONDS", 10)),
        "MESA_JOB_MAX_ATTEMPTS": int(os.environ.get("MESA_JOB_MAX_ATTEMPTS", 3)),
        # Unfinished downloads one person may have at a time.
        "MESA_JOBS_PER_USER": int(os.environ.get("MESA_JOBS_PER_USER", 5)),
        # E-mail through the queue: attempts while the mail server is unreachable, and the
        # first wait (doubling each time, at most an hour).
        "MESA_MAIL_ATTEMPTS": int(os.environ.get("MESA_MAIL_ATTEMPTS", 8)),
        "MESA_MAIL_RETRY_SECONDS": float(os.environ.get("MESA_MAIL_RETRY_SECONDS", 60)),
    }
