"""The fetcher's loop: every active account, polled in turn; the account list re-read regularly."""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from services.fetcher.apiaccounts import API_KINDS, ApiAccounts
from services.fetcher.dropfolder import fetch_folder
from services.fetcher.settings import FetcherSettings
from shared.broker.port import Broker
from shared.db.models import Account
from shared.health import HealthState
from shared.logging import get_logger
from shared.store import BlobStore

log = get_logger("postroom.fetcher")


@dataclass
class FetcherService:
    broker: Broker
    store: BlobStore
    sessions: sessionmaker[Session]
    settings: FetcherSettings
    health: HealthState
    api: ApiAccounts | None = None  # Graph and Gmail accounts (OAuth)
    _accounts: list[tuple[str, Path]] = field(default_factory=list)
    _api_accounts: list[tuple[str, str, str, dict[str, Any]]] = field(default_factory=list)

    def _refresh(self) -> None:
        with self.sessions() as session:
            rows = session.scalars(select(Account).where(Account.active)).all()
            self._accounts = [(a.name, Path(a.config["path"])) for a in rows if a.kind == "dropfolder"]
            self._api_accounts = [(a.name, a.kind, a.address, dict(a.config)) for a in rows if a.kind in API_KINDS]
        if self.api is not None and self._api_accounts:
            self.api.sweep_tokens()  # gauges and the "lapses soon" warning, as often as the list is read

    def run(self, stop: threading.Event) -> None:
        refreshed = 0.0
        self.health.set_ready(True)
        try:
            while not stop.is_set():
                if time.monotonic() - refreshed > self.settings.accounts_refresh:
                    try:
                        self._refresh()
                        refreshed = time.monotonic()
                    except Exception as exc:  # the database away: keep the last list, retry soon
                        log.warning("cannot read accounts", error=f"{type(exc).__name__}: {exc}")
                for name, folder in self._accounts:
                    if stop.is_set():
                        break
                    fetch_folder(name, folder, self.store, self.broker, self.settings.settle_seconds)
                if self.api is not None:
                    self.api.poll(self._api_accounts, stop)
                self.health.tick()
                stop.wait(self.settings.poll_interval)
        finally:
            self.health.set_ready(False)
