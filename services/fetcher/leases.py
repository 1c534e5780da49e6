"""Leases: at most one replica reads an account at a time.

Portable over PostgreSQL and SQLite with plain statements: a lease is taken by inserting its row, or
by one conditional UPDATE when the row exists but expired (or is ours); the row count says who won.
Lease times come from each replica's clock: keep replicas on NTP and the TTL far above the skew.
"""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import delete, func, insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from shared.clock import now
from shared.db.models import FetcherLease, FetcherReplica


class LeaseRepo:
    def __init__(self, sessions: sessionmaker[Session], holder: str, ttl: float) -> None:
        self.sessions, self.holder, self.ttl = sessions, holder, timedelta(seconds=ttl)

    def acquire(self, account: str) -> bool:
        moment = now()
        try:
            with self.sessions.begin() as session:
                session.execute(insert(FetcherLease).values(account=account, holder=self.holder,
                                                            expires_at=moment + self.ttl, acquired_at=moment))
            return True
        except IntegrityError:
            pass
        with self.sessions.begin() as session:
            taken = session.execute(
                update(FetcherLease)
                .where(FetcherLease.account == account,
                       (FetcherLease.holder == self.holder) | (FetcherLease.expires_at < moment))
                .values(holder=self.holder, expires_at=moment + self.ttl, acquired_at=moment))
            return taken.rowcount == 1

    def renew(self, accounts: list[str]) -> set[str]:
        """Extend our leases; return the accounts whose lease is ours no more."""
        lost = set()
        moment = now()
        with self.sessions.begin() as session:
            for account in accounts:
                renewed = session.execute(
                    update(FetcherLease)
                    .where(FetcherLease.account == account, FetcherLease.holder == self.holder,
                           FetcherLease.expires_at >= moment)
                    .values(expires_at=moment + self.ttl))
                if renewed.rowcount != 1:
                    lost.add(account)
        return lost

    def release(self, account: str) -> None:
        with self.sessions.begin() as session:
            session.execute(delete(FetcherLease).where(FetcherLease.account == account,
                                                       FetcherLease.holder == self.holder))

    def holds(self, session: Session, account: str) -> bool:
        """Inside a caller's transaction: is the lease still ours (fencing before a checkpoint)?"""
        return session.scalar(select(func.count()).select_from(FetcherLease).where(
            FetcherLease.account == account, FetcherLease.holder == self.holder,
            FetcherLease.expires_at >= now())) == 1

    def heartbeat(self) -> int:
        """Say this replica is alive; return how many replicas are (this one included)."""
        moment = now()
        with self.sessions.begin() as session:
            session.execute(delete(FetcherReplica).where(FetcherReplica.expires_at < moment))
            seen = session.execute(update(FetcherReplica).where(FetcherReplica.holder == self.holder)
                                   .values(expires_at=moment + self.ttl))
            if seen.rowcount == 0:
                session.add(FetcherReplica(holder=self.holder, expires_at=moment + self.ttl))
            return int(session.scalar(select(func.count()).select_from(FetcherReplica)) or 1)

    def leave(self) -> None:
        with self.sessions.begin() as session:
            session.execute(delete(FetcherReplica).where(FetcherReplica.holder == self.holder))
            session.execute(delete(FetcherLease).where(FetcherLease.holder == self.holder))
