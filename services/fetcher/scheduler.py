"""Which accounts this replica reads: leases in the database, spread evenly over the live replicas.

Every tick: say we are alive, renew our leases, stop the workers whose account went away, changed,
died or whose lease was lost, shed accounts above our fair share (ceil(accounts / replicas)), take
free or expired ones up to it. A worker that is stopping keeps its lease until its thread ends, so
two replicas never read one account at the same time.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from services.fetcher.leases import LeaseRepo
from services.fetcher.worker import AccountWorker
from shared.db.models import Account
from shared.logging import get_logger

log = get_logger("postroom.fetcher.scheduler")
FETCHED_KINDS = ("dropfolder", "imap", "pop3")


@dataclass(frozen=True)
class AccountRow:
    name: str
    kind: str
    config: dict[str, Any]
    sealed_secrets: str | None
    updated_at: datetime


class Scheduler:
    def __init__(self, sessions: sessionmaker[Session], leases: LeaseRepo,
                 make_worker: Callable[[AccountRow], AccountWorker]) -> None:
        self.sessions, self.leases, self.make_worker = sessions, leases, make_worker
        self.running: dict[str, tuple[AccountWorker, AccountRow]] = {}
        self.stopping: dict[str, AccountWorker] = {}

    def _accounts(self) -> dict[str, AccountRow]:
        with self.sessions() as session:
            rows = session.scalars(select(Account).where(Account.active, Account.kind.in_(FETCHED_KINDS)))
            return {a.name: AccountRow(a.name, a.kind, dict(a.config), a.sealed_secrets, a.updated_at)
                    for a in rows}

    def tick(self) -> None:
        replicas = self.leases.heartbeat()
        accounts = self._accounts()
        lost = self.leases.renew([*self.running, *self.stopping])
        for name in lost:
            log.warning("lease lost", account=name)
            worker = self.running.pop(name, (None, None))[0] or self.stopping.pop(name)
            worker.request_stop()
        for name, (worker, row) in list(self.running.items()):
            if accounts.get(name) != row or not worker.alive:
                self._retire(name)
        fair_share = math.ceil(len(accounts) / max(replicas, 1))
        for name in sorted(self.running, reverse=True)[:max(0, len(self.running) - fair_share)]:
            self._retire(name)
        for name, row in sorted(accounts.items()):
            if len(self.running) + len(self.stopping) >= fair_share:
                break
            if name not in self.running and name not in self.stopping and self.leases.acquire(name):
                self._start(row)
        for name, worker in list(self.stopping.items()):
            if not worker.alive:
                self.leases.release(name)
                del self.stopping[name]

    def _start(self, row: AccountRow) -> None:
        worker = self.make_worker(row)
        self.running[row.name] = (worker, row)
        worker.start()
        log.info("reading account", account=row.name, kind=row.kind, holder=self.leases.holder)

    def _retire(self, name: str) -> None:
        worker, _ = self.running.pop(name)
        worker.request_stop()
        self.stopping[name] = worker
        log.info("handing account back", account=name)

    def held(self) -> set[str]:
        return set(self.running)

    def shutdown(self, timeout: float = 30.0) -> None:
        workers = [w for w, _ in self.running.values()] + list(self.stopping.values())
        for worker in workers:
            worker.request_stop()
        for worker in workers:
            worker.join(timeout)
        self.running.clear()
        self.stopping.clear()
        self.leases.leave()
