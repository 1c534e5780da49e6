"""One thread per leased account: open a session, sync, wait for news, again; on failure record the
account's health and back off (exponential, capped, jittered; much longer after a refused login).
The account's fetch-health gauges follow every sync; the health row at most once a minute."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from datetime import timedelta

from services.fetcher.backoff import Backoff
from shared.clock import now
from shared.mailboxes.failures import LeaseLost, classify
from services.fetcher.gauges import AccountGauges
from services.fetcher.sessions import MailboxSession
from services.fetcher.status import HealthRepo
from shared.logging import get_logger

log = get_logger("postroom.fetcher.worker")
_HEALTH_EVERY = 60.0  # seconds between "still fine" writes when nothing changes


class AccountWorker:
    def __init__(self, account: str, open_session: Callable[[], MailboxSession], health: HealthRepo,
                 backoff: Backoff) -> None:
        self.account, self.open_session, self.health, self.backoff = account, open_session, health, backoff
        self.stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name=f"fetch-{account}", daemon=True)
        self._failures = 0
        self._reported = 0.0
        self.gauges = AccountGauges(account)

    def start(self) -> None:
        self._thread.start()

    def request_stop(self) -> None:
        self.stop.set()

    def join(self, timeout: float) -> None:
        self._thread.join(timeout)

    @property
    def alive(self) -> bool:
        return self._thread.is_alive()

    def _run(self) -> None:
        try:
            self._read()
        finally:
            self.gauges.forget()

    def _read(self) -> None:
        self.gauges.restore(self._quietly(self.health.last_success_at))  # type: ignore[arg-type]
        self._failures, due = self._quietly(self.health.streak, default=(0, None))  # type: ignore[misc]
        if self._failures:  # still failing when this replica took it over
            self.gauges.failed()
        if due is not None:  # a restart does not cut a back-off short
            self.stop.wait(max(0.0, (due - now()).total_seconds()))
        while not self.stop.is_set():
            session: MailboxSession | None = None
            try:
                session = self.open_session()
                while not self.stop.is_set():
                    count = session.sync(self.stop)
                    self.gauges.succeeded(session.longest_wait)
                    self._succeeded(count)
                    session.wait(self.stop)
            except LeaseLost:
                log.warning("lease lost: another replica reads this account now", account=self.account)
                return
            except Exception as exc:
                self._failed(exc)
            finally:
                if session is not None:
                    session.close()

    def _succeeded(self, count: int) -> None:
        if self._failures or count or time.monotonic() - self._reported > _HEALTH_EVERY:
            self._quietly(self.health.succeeded)
            self._failures, self._reported = 0, time.monotonic()

    def _failed(self, exc: Exception) -> None:
        error = classify(exc)
        self.gauges.failed()
        self._failures += 1
        delay = self.backoff.delay(error.kind, self._failures)
        log.warning("fetch failed", account=self.account, kind=error.kind, error=str(error),
                    failures=self._failures, retry_in_s=round(delay, 1))
        self._quietly(self.health.failed, error.kind, str(error), self._failures, now() + timedelta(seconds=delay))
        self.stop.wait(delay)

    def _quietly(self, call: Callable[..., object], *args: object, default: object = None) -> object:
        try:
            return call(*args)
        except Exception as exc:  # the database away: the fetch itself matters more
            log.warning("cannot record account health", account=self.account, error=f"{type(exc).__name__}: {exc}")
            return default
