"""What people do with items: API tokens, each item's history of who did what, and the messages the
application layer has committed to send to the pipeline (a transactional outbox)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, LargeBinary, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from shared.db.models.base import Base, utcnow


class ApiToken(Base):
    """A bearer token: an API token a script uses, or a sign-in session. Only its SHA-256 is kept."""

    __tablename__ = "api_tokens"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    kind: Mapped[str] = mapped_column(String(20), default="api")  # api | session
    name: Mapped[str] = mapped_column(String(200), default="")
    digest: Mapped[str] = mapped_column(String(64), unique=True)  # sha256 hex of the token
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime | None] = mapped_column(nullable=True)
    last_used_at: Mapped[datetime | None] = mapped_column(nullable=True)
    revoked_at: Mapped[datetime | None] = mapped_column(nullable=True)


class ItemEvent(Base):
    """One line of an item's history: who did what, and the details."""

    __tablename__ = "item_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    item_id: Mapped[int] = mapped_column(ForeignKey("items.id"), index=True)
    actor: Mapped[str] = mapped_column(String(320))  # a user's email, or "postroom"
    action: Mapped[str] = mapped_column(String(40))  # replied | edited | watcher-added | merged | ...
    detail: Mapped[dict[str, Any]] = mapped_column(default=dict)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class PendingMessage(Base):
    """A message to the pipeline, written in the transaction of the change it reports and published
    after the commit; whatever a crash left unpublished is published by the API's relay."""

    __tablename__ = "pending_messages"

    id: Mapped[int] = mapped_column(primary_key=True)
    message_id: Mapped[str] = mapped_column(String(100), unique=True)
    routing_key: Mapped[str] = mapped_column(String(100))
    body: Mapped[bytes] = mapped_column(LargeBinary)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    published_at: Mapped[datetime | None] = mapped_column(nullable=True, index=True)
    error: Mapped[str] = mapped_column(Text, default="")
