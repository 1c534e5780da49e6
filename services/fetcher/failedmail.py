"""Mails the server would not hand over. Each is retried on later syncs, a bounded number of times,
then skipped for good; the mails behind it never wait for it."""

from __future__ import annotations

from sqlalchemy import delete, select
from sqlalchemy.orm import Session, sessionmaker

from shared.clock import now
from shared.db.models import FetchFailure


class FailedMailRepo:
    def __init__(self, sessions: sessionmaker[Session], account: str, max_attempts: int) -> None:
        self.sessions, self.account, self.max_attempts = sessions, account, max_attempts

    def record(self, source_id: str, error: str) -> str:
        """Count one more failed attempt; return the state: ``retrying`` or ``skipped``."""
        with self.sessions.begin() as session:
            row = session.get(FetchFailure, (self.account, source_id))
            if row is None:
                row = FetchFailure(account=self.account, source_id=source_id, attempts=0, state="retrying")
                session.add(row)
            row.attempts += 1
            row.last_error = error[:2000]
            row.last_failed_at = now()
            row.state = "skipped" if row.attempts >= self.max_attempts else "retrying"
            return row.state

    def resolve(self, source_id: str) -> None:
        with self.sessions.begin() as session:
            session.execute(delete(FetchFailure).where(FetchFailure.account == self.account,
                                                       FetchFailure.source_id == source_id))

    def under(self, prefix: str, state: str | None = None) -> list[str]:
        """Source ids starting with ``prefix`` (one folder and UIDVALIDITY), optionally of one state."""
        query = select(FetchFailure.source_id).where(FetchFailure.account == self.account,
                                                     FetchFailure.source_id.startswith(prefix, autoescape=True))
        if state:
            query = query.where(FetchFailure.state == state)
        with self.sessions() as session:
            return list(session.scalars(query))

    def forget_except(self, prefix: str, keep: str) -> None:
        """Drop the records of ``prefix`` that do not start with ``keep`` (an old UIDVALIDITY)."""
        with self.sessions.begin() as session:
            session.execute(delete(FetchFailure).where(
                FetchFailure.account == self.account, FetchFailure.source_id.startswith(prefix, autoescape=True),
                ~FetchFailure.source_id.startswith(keep, autoescape=True)))
