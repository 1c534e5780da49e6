"""When each OAuth account's sign-in lapses, as the accounts overview shows it: for an OAuth
sign-in, when it lapses without an operator (the refresh token's known lifetime or the client
secret's end), else when the access token expires."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select

from shared.accounts.overview import TokenExpiryReader
from shared.db.models import Account, OAuthToken, as_utc
from shared.oauth.config import OAuthConfig
from shared.oauth.health import token_health
from shared.oauth.store import TokenRecord


def token_expiry_readers() -> Mapping[str, TokenExpiryReader]:
    """Kind -> reader of its accounts' token expiry (shared/accounts/overview.py, ``TokenExpiryReader``)."""
    return {kind: _oauth_expiry for kind in ("graph", "gmail", "imap", "pop3")}


def _oauth_expiry(session: Any, names: list[str]) -> dict[str, Any]:
    found: dict[str, Any] = {}
    for account in session.scalars(select(Account).where(Account.name.in_(names))):
        oauth, row = (account.config or {}).get("oauth"), session.get(OAuthToken, account.name)
        if not oauth:
            continue  # a password account: no token
        if row is None:
            found[account.name] = None  # not signed in yet
            continue
        record = TokenRecord(row.account, row.provider, row.flow, row.state, {}, as_utc(row.access_expires_at),
                             as_utc(row.refresh_issued_at), as_utc(row.consented_at), as_utc(row.last_refresh_at))
        health = token_health(record, OAuthConfig.model_validate(oauth), account.name, datetime.now(UTC))
        found[account.name] = health.lapses_at or health.access_expires_at
    return found
