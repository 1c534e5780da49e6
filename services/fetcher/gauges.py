"""The per-account fetch-health gauges this replica exports (shared/metrics.py), set by the worker.

They are what the alerts read: ``PostroomAccountNotFetching`` compares the last success with the
interval, ``PostroomAccountFetchFailing`` the last outcome. The worker sets them on every sync (cheap,
in memory), not only when it writes the account's health row, and removes them when it stops: an
account handed to another replica, or removed, must not look stuck here.
"""

from __future__ import annotations

import re
import time
from collections.abc import Sequence
from datetime import datetime
from email.utils import parsedate_to_datetime

from shared import metrics

# The first Received field of the header block and its continuation lines (RFC 5322 2.2.3 folding).
_RECEIVED = re.compile(rb"^Received:([^\r\n]*(?:\r?\n[ \t][^\r\n]*)*)", re.I | re.M)
_HEADER_END = re.compile(rb"\r?\n\r?\n")


class AccountGauges:
    def __init__(self, account: str) -> None:
        self.account = account

    def restore(self, last_success_at: datetime | None) -> None:
        """After a restart or a lease move: the last success recorded in the database, so an account
        failing since before this replica took it still ages in ``PostroomAccountNotFetching``."""
        if last_success_at is not None:
            metrics.ACCOUNT_LAST_SUCCESS.labels(self.account).set(last_success_at.timestamp())

    def succeeded(self, longest_wait: float) -> None:
        metrics.ACCOUNT_FETCH_SUCCESS.labels(self.account).set(1)
        metrics.ACCOUNT_LAST_SUCCESS.labels(self.account).set(time.time())
        metrics.ACCOUNT_FETCH_INTERVAL.labels(self.account).set(longest_wait)

    def failed(self) -> None:
        metrics.ACCOUNT_FETCH_SUCCESS.labels(self.account).set(0)

    def forget(self) -> None:
        for gauge in (metrics.ACCOUNT_FETCH_SUCCESS, metrics.ACCOUNT_LAST_SUCCESS, metrics.ACCOUNT_FETCH_INTERVAL,
                      metrics.ACCOUNT_FETCH_LAG):
            try:
                gauge.remove(self.account)
            except KeyError:  # never set on this replica
                pass


def arrived_at(raw: bytes) -> datetime | None:
    """When the mailbox's server took the mail in: the date of the topmost Received field (each
    server prepends one, RFC 5321 4.4, so the first is the last hop). None without a usable one."""
    end = _HEADER_END.search(raw)
    match = _RECEIVED.search(raw, 0, end.start() if end else len(raw))
    if match is None or b";" not in match.group(1):
        return None
    stamp = match.group(1).rsplit(b";", 1)[1].decode("ascii", "replace")
    try:
        when = parsedate_to_datetime(" ".join(stamp.split()))
    except (TypeError, ValueError):
        return None
    return when if when.tzinfo is not None else None  # "-0000" (unknown zone): no honest lag


def record_lag(account: str, mails: Sequence[tuple[bytes, bool]]) -> None:
    """The newest ``(raw, archive)`` mail's delay from arrival to fetch; archive imports (old mail
    imported on purpose) do not count."""
    for raw, archive in reversed(mails):
        if archive:
            continue
        when = arrived_at(raw)
        if when is not None:
            metrics.ACCOUNT_FETCH_LAG.labels(account).set(max(0.0, time.time() - when.timestamp()))
        return
