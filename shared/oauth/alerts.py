"""Alerts an operator sees days before mail stops: a log event and the Prometheus gauges
``postroom_account_token_expiry_timestamp_seconds{account}`` and ``postroom_account_auth_failed{account}``."""

from __future__ import annotations

from shared import metrics
from shared.logging import get_logger

log = get_logger("postroom.fetcher.oauth")


def auth_failed(account: str, reason: str) -> None:
    metrics.AUTH_FAILED.labels(account).set(1)
    log.error("oauth.auth_failed", account=account, reason=reason)


def auth_ok(account: str) -> None:
    metrics.AUTH_FAILED.labels(account).set(0)


def lapses(account: str, at_timestamp: float | None, days_left: float | None, warn_days: float) -> None:
    """Publish when the sign-in lapses; warn when that is within ``warn_days``."""
    if at_timestamp is None:
        return
    metrics.ACCOUNT_TOKEN_EXPIRY.labels(account).set(at_timestamp)
    if days_left is not None and days_left < warn_days:
        log.warning("oauth.token_expiring", account=account, days_left=round(days_left, 1),
                    action=f"run `postroom accounts connect {account}` before then")
