"""What a sign-in or refresh hands back, whichever the provider."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol


@dataclass(frozen=True)
class Grant:
    access_token: str = field(repr=False)
    expires_at: datetime | None
    cache: dict[str, Any] = field(repr=False)  # what to seal and store (the provider's token cache)
    changed: bool  # the cache differs from what was loaded: store it before the token is used
    refresh_rotated: bool  # a new refresh token came back


class Authenticator(Protocol):
    def refresh(self, cache: dict[str, Any], force: bool) -> Grant:
        """A valid access token from ``cache``, refreshed when it is near expiry or ``force``.
        Raises ``AuthFailed`` (refused) or ``TokenUnavailable`` (try later)."""
