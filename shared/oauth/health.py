"""Each OAuth account's token health: state, access-token expiry, refresh-token age against its known
lifetime, the last error, and when the sign-in lapses unless someone acts."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta

from shared.oauth import alerts
from shared.oauth.config import OAuthConfig
from shared.oauth.store import TokenRecord, TokenStore

DAY = 86400.0


@dataclass(frozen=True)
class TokenHealth:
    account: str
    provider: str
    state: str  # ok | auth_failed | not_connected
    access_expires_at: datetime | None
    refresh_age_days: float | None
    refresh_lifetime_days: float | None
    lapses_at: datetime | None  # when the sign-in stops working without an operator
    last_error: str | None

    def days_left(self, now: datetime) -> float | None:
        return (self.lapses_at - now).total_seconds() / DAY if self.lapses_at else None


def token_health(record: TokenRecord | None, config: OAuthConfig, account: str, now: datetime) -> TokenHealth:
    if record is None:
        return TokenHealth(account, config.provider, "not_connected", None, None, None, None, None)
    lifetime = config.lifetime
    age = lapses = None
    if lifetime is not None and record.refresh_issued_at is not None:
        days, kind = lifetime
        age = (now - record.refresh_issued_at).total_seconds() / DAY
        start = record.consented_at if kind == "fixed" else (record.last_refresh_at or record.refresh_issued_at)
        lapses = (start or record.refresh_issued_at) + timedelta(days=days)
    elif lifetime is None:
        lapses = config.client_secret_expires_at
    return TokenHealth(account, record.provider, record.state, record.access_expires_at, age,
                       lifetime[0] if lifetime else None, lapses, record.last_error)


def sweep(store: TokenStore, configs: Mapping[str, OAuthConfig], now: datetime,
          warn_days: float = 3.0) -> list[TokenHealth]:
    """Every OAuth account's health, with the gauges set and a warning for each that lapses soon."""
    records = {r.account: r for r in store.all()}
    found = []
    for account, config in sorted(configs.items()):
        health = token_health(records.get(account), config, account, now)
        if health.state == "auth_failed":
            alerts.auth_failed(account, health.last_error or "")
        elif health.state == "ok":
            alerts.auth_ok(account)
        lapses_ts = health.lapses_at.timestamp() if health.lapses_at else None
        alerts.lapses(account, lapses_ts, health.days_left(now), warn_days)
        found.append(health)
    return found
