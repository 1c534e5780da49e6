"""The token provider: account name -> a function giving a fresh access token (the shape the
notifier's ``SenderPool`` and the fetcher's adapters take).

A refresh that comes back is stored (sealed) before its access token is handed out, so a crash
never leaves the database with a refresh token the provider has already replaced. A refusal puts the
account into ``auth_failed`` with an alert; from then on the token endpoint is not asked again until
the account is reconnected (no retry loop that would lock the user out or hide the problem).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

from shared.oauth import alerts
from shared.oauth.errors import RECONNECT, AuthFailed, TokenUnavailable
from shared.oauth.grant import Authenticator
from shared.oauth.store import TokenStore
from shared.logging import get_logger

log = get_logger("postroom.fetcher.oauth")
AuthenticatorFactory = Callable[[str], Authenticator]  # account name -> its provider's authenticator


class TokenProvider:
    def __init__(self, store: TokenStore, authenticators: AuthenticatorFactory,
                 clock: Callable[[], datetime] = lambda: datetime.now(UTC)) -> None:
        self._store, self._authenticators, self._clock = store, authenticators, clock

    def __call__(self, account: str) -> Callable[[], str]:
        return lambda: self.token(account)

    def token(self, account: str, force: bool = False) -> str:
        """A valid access token; ``force`` after the server refused the last one (HTTP 401)."""
        record = self._store.load(account)
        if record is None:
            raise AuthFailed(f"account {account} is not signed in; " + RECONNECT.format(account=account))
        if record.state == "auth_failed":
            raise AuthFailed(record.last_error or "the sign-in was refused; " + RECONNECT.format(account=account))
        try:
            grant = self._authenticators(account).refresh(record.cache, force)
        except AuthFailed as exc:
            self._store.failed(account, "auth_failed", str(exc), self._clock())
            alerts.auth_failed(account, str(exc))
            raise
        except TokenUnavailable as exc:
            self._store.failed(account, record.state, str(exc), self._clock())
            log.warning("oauth.refresh_unavailable", account=account, reason=str(exc))
            raise
        except OSError as exc:  # the network: a passing outage, the fetch backs off
            self._store.failed(account, record.state, f"{type(exc).__name__}: {exc}", self._clock())
            raise TokenUnavailable(f"token endpoint unreachable: {type(exc).__name__}") from None
        if grant.changed:
            self._store.refreshed(account, grant.cache, grant.expires_at, grant.refresh_rotated, self._clock())
            log.info("oauth.refreshed", account=account, expires_at=grant.expires_at.isoformat()
                     if grant.expires_at else None, refresh_rotated=grant.refresh_rotated)
        alerts.auth_ok(account)
        return grant.access_token
