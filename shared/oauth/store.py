"""The sign-ins in the database: the token cache sealed with the secret key (a database dump alone
never yields a token), next to the plain state operators watch."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from shared.db.models import OAuthToken, as_utc
from shared.secrets import SecretBox


@dataclass(frozen=True)
class TokenRecord:
    account: str
    provider: str
    flow: str
    state: str
    cache: dict[str, Any] = field(repr=False)
    access_expires_at: datetime | None = None
    refresh_issued_at: datetime | None = None
    consented_at: datetime | None = None
    last_refresh_at: datetime | None = None
    last_error: str | None = None
    last_error_at: datetime | None = None


class TokenStore:
    def __init__(self, sessions: sessionmaker[Session], box: SecretBox) -> None:
        self._sessions, self._box = sessions, box

    def _record(self, row: OAuthToken) -> TokenRecord:
        return TokenRecord(row.account, row.provider, row.flow, row.state, self._box.open(row.sealed_cache),
                           as_utc(row.access_expires_at), as_utc(row.refresh_issued_at), as_utc(row.consented_at),
                           as_utc(row.last_refresh_at), row.last_error, as_utc(row.last_error_at))

    def load(self, account: str) -> TokenRecord | None:
        with self._sessions() as session:
            row = session.get(OAuthToken, account)
            return self._record(row) if row else None

    def all(self) -> list[TokenRecord]:
        with self._sessions() as session:
            return [self._record(r) for r in session.scalars(select(OAuthToken).order_by(OAuthToken.account))]

    def connected(self, account: str, provider: str, flow: str, cache: dict[str, Any],
                  access_expires_at: datetime | None, now: datetime) -> None:
        """A fresh sign-in: the old state and error are gone, the lifetime counts from now."""
        with self._sessions.begin() as session:
            row = session.get(OAuthToken, account) or OAuthToken(account=account)
            row.provider, row.flow, row.state = provider, flow, "ok"
            row.sealed_cache = self._box.seal(cache)
            row.access_expires_at, row.last_refresh_at = access_expires_at, now
            row.consented_at = row.refresh_issued_at = now if flow != "client_credentials" else None
            row.last_error = row.last_error_at = None
            session.add(row)

    def refreshed(self, account: str, cache: dict[str, Any], access_expires_at: datetime | None,
                  refresh_rotated: bool, now: datetime) -> None:
        with self._sessions.begin() as session:
            row = session.get(OAuthToken, account)
            if row is None:
                return
            row.sealed_cache = self._box.seal(cache)
            row.access_expires_at, row.last_refresh_at, row.state = access_expires_at, now, "ok"
            if refresh_rotated:
                row.refresh_issued_at = now

    def failed(self, account: str, state: str, message: str, now: datetime) -> None:
        """``state`` is ``auth_failed`` (an operator must act) or ``ok`` (a passing outage, noted)."""
        with self._sessions.begin() as session:
            row = session.get(OAuthToken, account)
            if row is None:
                return
            row.state, row.last_error, row.last_error_at = state, message[:2000], now
