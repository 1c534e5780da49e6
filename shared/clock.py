"""Times as the database gives them back: SQLite drops the zone, PostgreSQL keeps it."""

from __future__ import annotations

from datetime import UTC, datetime

from shared.db.models import as_utc

__all__ = ["as_utc", "now"]


def now() -> datetime:
    return datetime.now(UTC)
