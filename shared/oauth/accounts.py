"""From an account row to its OAuth authenticator: the ``oauth:`` block of its configuration, the
client secret sealed with its other secrets, the user it signs in as."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from shared.oauth.config import OAuthConfig
from shared.oauth.errors import AuthFailed
from shared.oauth.google import GoogleAuth
from shared.oauth.grant import Authenticator
from shared.oauth.microsoft import MicrosoftAuth
from shared.db.models import Account
from shared.secrets import SecretBox


def oauth_config_of(config: dict[str, Any]) -> OAuthConfig | None:
    raw = config.get("oauth")
    return OAuthConfig.model_validate(raw) if raw else None


@dataclass
class AccountAuthenticators:
    """account name -> its authenticator; the HTTP seams (msal's ``http_client``, google-auth's
    ``Request``) are injectable for tests and proxies."""

    sessions: sessionmaker[Session]
    box: SecretBox
    msal_http: Any = None
    google_request: Any = None
    clock: Callable[[], datetime] = lambda: datetime.now(UTC)

    def __call__(self, account: str) -> Authenticator:
        with self.sessions() as session:
            row = session.scalar(select(Account).where(Account.name == account))
            if row is None:
                raise AuthFailed(f"no account {account!r}")
            config, kind, address, sealed = dict(row.config), row.kind, row.address, row.sealed_secrets
        oauth = oauth_config_of(config)
        if oauth is None:
            raise AuthFailed(f"account {account} has no oauth: block")
        secret = self.box.open(sealed).get("client_secret")
        user = str(config.get("user") or address)
        if oauth.provider == "microsoft":
            return MicrosoftAuth(account, oauth, kind, user, secret, self.msal_http, self.clock)
        return GoogleAuth(account, oauth, kind, secret, self.google_request, self.clock)

    def configs(self, include_inactive: bool = False) -> dict[str, OAuthConfig]:
        """Every active account signing in with OAuth, by name (``include_inactive``: every one)."""
        with self.sessions() as session:
            query = select(Account) if include_inactive else select(Account).where(Account.active)
            rows = session.scalars(query).all()
            return {r.name: c for r in rows if (c := oauth_config_of(r.config)) is not None}
