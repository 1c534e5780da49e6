"""The fetcher's main loop: the scheduler ticks (leases, workers) until SIGTERM; the workers read."""

from __future__ import annotations

import threading
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

    def run(self, stop: threading.Event) -> None:
        self.health.set_ready(True)
        try:
            while not stop.is_set():
                try:
                    self.scheduler.tick()
                except Exception as exc:  # the database away: keep the workers, retry soon
                    log.warning("scheduler tick failed", error=f"{type(exc).__name__}: {exc}")
                self.health.tick()
                stop.wait(self.settings.tick_interval)
        finally:
            self.health.set_ready(False)
            self.scheduler.shutdown()
