from datetime import date, datetime, timezone


def utcnow() -> datetime:
    """Naive UTC timestamp (stored as such on SQLite and PostgreSQL alike)."""
    return datetime.now(timezone.utc).replace(tzinfo=None)


def today() -> date:
    return datetime.now(timezone.utc).date()
