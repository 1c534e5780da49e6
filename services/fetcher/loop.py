"""The fetcher's main loop: the scheduler ticks (leases, workers) until SIGTERM; the workers read."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

from services.fetcher.scheduler import Scheduler
from services.fetcher.settings import FetcherSettings
from shared.broker.port import Broker
from shared.health import HealthState
from shared.logging import get_logger

log = get_logger("postroom.fetcher")


@dataclass
class FetcherService:
    broker: Broker
    scheduler: Scheduler
    settings: FetcherSettings
    health: HealthState
    token_sweep: Callable[[], None] | None = None  # OAuth token health: gauges and warnings

    def _sweep(self) -> None:
        if (self.token_sweep is None
                or self._swept and time.monotonic() - self._swept < self.settings.token_sweep_interval):
            return
        self._swept = time.monotonic()
        try:
            self.token_sweep()
        except Exception as exc:  # the database away: the fetch goes on
            log.warning("token health sweep failed", error=f"{type(exc).__name__}: {exc}")

    def run(self, stop: threading.Event) -> None:
        self._swept = 0.0
        self.health.set_ready(True)
        try:
            while not stop.is_set():
                try:
                    self.scheduler.tick()
                except Exception as exc:  # the database away: keep the workers, retry soon
                    log.warning("scheduler tick failed", error=f"{type(exc).__name__}: {exc}")
                self._sweep()
                self.health.tick()
                stop.wait(self.settings.tick_interval)
        finally:
            self.health.set_ready(False)
            self.scheduler.shutdown()
