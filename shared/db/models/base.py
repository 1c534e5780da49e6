"""The declarative base and the one notion of time the schema uses: aware, in UTC."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, ClassVar

from sqlalchemy import JSON, DateTime, Table
from sqlalchemy.orm import DeclarativeBase


def utcnow() -> datetime:
    return datetime.now(UTC)


def as_utc(value: datetime | None) -> datetime | None:
    """A time as the database hands it back, made aware: SQLite drops the zone (it was stored as UTC),
    PostgreSQL keeps it."""
    if value is None:
        return None
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


class Base(DeclarativeBase):
    type_annotation_map = {dict[str, Any]: JSON, datetime: DateTime(timezone=True)}
    if TYPE_CHECKING:  # every model maps one Table (none a join or a select), as Core statements want
        __table__: ClassVar[Table]
