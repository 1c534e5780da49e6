"""OAuth sign-ins: sealed token caches and the state operators watch."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import String, Text
from sqlalchemy.orm import Mapped, mapped_column

from shared.db.models.base import Base, utcnow


class OAuthToken(Base):
    """An account's OAuth sign-in: the sealed token cache (never readable without the secret key) and
    the state operators watch (``postroom accounts tokens``): when the access token expires, when the
    refresh token was issued, the last refresh and the last error."""

    __tablename__ = "oauth_tokens"

    account: Mapped[str] = mapped_column(String(100), primary_key=True)
    provider: Mapped[str] = mapped_column(String(20))  # microsoft | google
    flow: Mapped[str] = mapped_column(String(30))  # device_code | auth_code | client_credentials | installed
    sealed_cache: Mapped[str | None] = mapped_column(Text, nullable=True)
    state: Mapped[str] = mapped_column(String(20), default="not_connected")  # ok | auth_failed | ...
    access_expires_at: Mapped[datetime | None] = mapped_column(nullable=True)
    refresh_issued_at: Mapped[datetime | None] = mapped_column(nullable=True)
    consented_at: Mapped[datetime | None] = mapped_column(nullable=True)
    last_refresh_at: Mapped[datetime | None] = mapped_column(nullable=True)
    last_error: Mapped[str | None] = mapped_column(Text, nullable=True)
    last_error_at: Mapped[datetime | None] = mapped_column(nullable=True)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
