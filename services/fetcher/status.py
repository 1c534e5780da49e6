"""Each account's health as operators see it (``postroom accounts show``): last success, last error
and its kind, the failure streak, when the next attempt is due."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session, sessionmaker

from shared.clock import as_utc, now
from shared.db.models import AccountHealth


class HealthRepo:
    def __init__(self, sessions: sessionmaker[Session], account: str) -> None:
        self.sessions, self.account = sessions, account

    def _row(self, session: Session) -> AccountHealth:
        row = session.get(AccountHealth, self.account)
        if row is None:
            row = AccountHealth(account=self.account, consecutive_failures=0)
            session.add(row)
        return row

    def succeeded(self) -> None:
        with self.sessions.begin() as session:
            row = self._row(session)
            row.last_success_at = now()
            row.consecutive_failures = 0
            row.next_attempt_at = None

    def failed(self, kind: str, message: str, failures: int, next_attempt_at: datetime) -> None:
        with self.sessions.begin() as session:
            row = self._row(session)
            row.last_error_at = now()
            row.last_error_kind = kind
            row.last_error = message[:2000]
            row.consecutive_failures = failures
            row.next_attempt_at = next_attempt_at

    def last_success_at(self) -> datetime | None:
        with self.sessions() as session:
            row = session.get(AccountHealth, self.account)
            return as_utc(row.last_success_at) if row else None

    def streak(self) -> tuple[int, datetime | None]:
        """The failures in a row and when the next attempt is due (a restart keeps to both)."""
        with self.sessions() as session:
            row = session.get(AccountHealth, self.account)
            return (row.consecutive_failures, as_utc(row.next_attempt_at)) if row else (0, None)
