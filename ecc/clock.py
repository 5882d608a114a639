"""The one clock of the project's records: naive UTC, as every timestamp column stores it."""

from __future__ import annotations

from datetime import UTC, datetime


def utcnow() -> datetime:
    """Now in UTC, without a time zone (the database columns' convention)."""
    return datetime.now(UTC).replace(tzinfo=None)
