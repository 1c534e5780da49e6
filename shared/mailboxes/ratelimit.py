"""Throttling answers of the mail APIs: how long to wait before asking again."""

from __future__ import annotations

from datetime import UTC, datetime
from email.utils import parsedate_to_datetime

DEFAULT_RETRY_AFTER = 30.0  # a 429/503 without (a readable) Retry-After


class RateLimited(Exception):
    """The API asked us to slow down; the sync stops and the account waits ``retry_after`` seconds
    (the cursor holds what was done, so it resumes where it stopped)."""

    def __init__(self, message: str, retry_after: float) -> None:
        super().__init__(f"{message}; retry after {retry_after:.0f}s")
        self.retry_after = retry_after


def retry_after_seconds(value: str | None, now: datetime | None = None) -> float:
    """``Retry-After`` (RFC 9110 section 10.2.3): delay-seconds or an HTTP-date; at least 1 s, and
    ``DEFAULT_RETRY_AFTER`` when absent or unreadable."""
    if value is None or not str(value).strip():
        return DEFAULT_RETRY_AFTER
    text = str(value).strip()
    try:
        return max(1.0, float(text))
    except ValueError:
        pass
    try:
        when = parsedate_to_datetime(text)
    except (TypeError, ValueError):
        return DEFAULT_RETRY_AFTER
    if when.tzinfo is None:  # an HTTP-date is always GMT
        when = when.replace(tzinfo=UTC)
    return max(1.0, (when - (now or datetime.now(UTC))).total_seconds())


def with_backoff(call, sleep, attempts: int = 3, cap: float = 120.0):  # type: ignore[no-untyped-def]
    """``call()``; on ``RateLimited`` wait (``sleep`` is ``stop.wait`` in the service, a recorder in
    tests) the asked time, doubling each attempt up to ``cap``, then let the last one through."""
    for attempt in range(attempts):
        try:
            return call()
        except RateLimited as exc:
            if attempt == attempts - 1:
                raise
            if sleep(min(cap, exc.retry_after * (2 ** attempt))):
                raise  # stop was set while waiting
    raise AssertionError("unreachable")
