"""POP3 UIDLs already handled by an account (POP3 has no cursor: the UIDL list is the state)."""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import delete, select
from sqlalchemy.orm import Session, sessionmaker

from shared.mailboxes.failures import LeaseLost
from services.fetcher.leases import LeaseRepo
from shared.db.models import Pop3Uidl

# done: published (deleted from the server when the account deletes); archive: there before the
# first import, to be imported as archive; kept: imported as archive, and left on the server (until
# archived_mail: release); skipped: there before the first import with existing_mail: skip, never
# imported, so never deleted.
DONE, ARCHIVE, KEPT, SKIPPED = "done", "archive", "kept", "skipped"
HANDLED = (DONE, KEPT, SKIPPED)


class UidlRepo:
    def __init__(self, sessions: sessionmaker[Session], leases: LeaseRepo, account: str) -> None:
        self.sessions, self.leases, self.account = sessions, leases, account

    def states(self) -> dict[str, str]:
        with self.sessions() as session:
            rows = session.execute(select(Pop3Uidl.uidl, Pop3Uidl.state).where(Pop3Uidl.account == self.account))
            return {uidl: state for uidl, state in rows}

    def set_state(self, uidls: Iterable[str], state: str) -> None:
        with self.sessions.begin() as session:
            if not self.leases.holds(session, self.account):
                raise LeaseLost(self.account)
            for uidl in uidls:
                session.merge(Pop3Uidl(account=self.account, uidl=uidl, state=state))

    def forget(self, uidls: Iterable[str]) -> None:
        """Drop UIDLs the server no longer has, so the table does not grow forever."""
        gone = list(uidls)
        with self.sessions.begin() as session:
            for start in range(0, len(gone), 500):
                session.execute(delete(Pop3Uidl).where(Pop3Uidl.account == self.account,
                                                       Pop3Uidl.uidl.in_(gone[start:start + 500])))
