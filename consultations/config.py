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


def from_environment(instance_path: str) -> dict:
    default_db = "sqlite:///" + str(Path(instance_path) / "mesa.sqlite3")
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
        "WTF_CSRF_TIME_LIMIT": int(os.environ.get("MESA_CSRF_SECONDS", 8 * 3600)),
        "MESA_PAGE_SIZE": int(os.environ.get("MESA_PAGE_SIZE", 20)),
        # Refuse to serve against a database whose schema is not at the latest migration.
        "MESA_CHECK_MIGRATIONS": True,
    }
