"""Where reading an IMAP folder stands, checkpointed after every published batch.

A checkpoint is written only while this replica holds the account's lease (checked in the same
transaction), so a replica that lost its lease cannot move the cursor under the new holder.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, replace
from datetime import datetime

from sqlalchemy import insert, select
from sqlalchemy.orm import Session, sessionmaker

from shared.clock import now
from shared.mailboxes.failures import LeaseLost
from services.fetcher.leases import LeaseRepo
from shared.db.models import FetchedDigest, MailboxCursor


@dataclass(frozen=True)
class Cursor:
    uidvalidity: int
    last_uid: int = 0  # every UID up to this one was published (or recorded as failed)
    released_uid: int = 0  # ... and up to this one marked, moved or deleted as the account says
    archive_until: int = 0  # UIDs up to this one were there before the first import: archive
    resync_until: int = 0  # UIDs up to this one came with a new UIDVALIDITY: skip what we published
    imported: int = 0
    backlog: int = 0
    # The current run (a pass that found mail to import): when it began and ``imported`` then, so
    # ``accounts show`` can tell how many of this run are done and at what rate (shared/accounts/progress.py).
    run_started_at: datetime | None = None
    run_base: int = 0

    def advanced(self, last_uid: int, published: int, backlog: int) -> Cursor:
        return replace(self, last_uid=max(self.last_uid, last_uid), imported=self.imported + published,
                       backlog=backlog)

    def begun(self, backlog: int) -> Cursor:
        """A pass found ``backlog`` mails to import. A run still unfinished (a restart in the middle of
        an import) goes on counting from where it began; otherwise a new run starts now."""
        if self.backlog and self.run_started_at is not None:
            return replace(self, backlog=backlog)
        return replace(self, backlog=backlog, run_started_at=now(), run_base=self.imported)


class CursorRepo:
    def __init__(self, sessions: sessionmaker[Session], leases: LeaseRepo, account: str) -> None:
        self.sessions, self.leases, self.account = sessions, leases, account

    def load(self, folder: str) -> Cursor | None:
        with self.sessions() as session:
            row = session.get(MailboxCursor, (self.account, folder))
            if row is None:
                return None
            return Cursor(uidvalidity=row.uidvalidity, last_uid=row.last_uid, released_uid=row.released_uid,
                          archive_until=row.archive_until, resync_until=row.resync_until,
                          imported=row.imported, backlog=row.backlog, run_started_at=row.run_started_at,
                          run_base=row.run_base)

    def save(self, folder: str, cursor: Cursor, digests: Iterable[str] = ()) -> None:
        with self.sessions.begin() as session:
            if not self.leases.holds(session, self.account):
                raise LeaseLost(self.account)
            row = session.get(MailboxCursor, (self.account, folder))
            if row is None:
                row = MailboxCursor(account=self.account, folder=folder)
                session.add(row)
            for name in ("uidvalidity", "last_uid", "released_uid", "archive_until", "resync_until",
                         "imported", "backlog", "run_started_at", "run_base"):
                setattr(row, name, getattr(cursor, name))
            wanted = set(digests)
            if wanted:  # one SELECT and one multi-row INSERT per batch, not a round trip per mail
                wanted -= set(session.scalars(select(FetchedDigest.sha256).where(
                    FetchedDigest.account == self.account, FetchedDigest.sha256.in_(wanted))))
            if wanted:
                session.execute(insert(FetchedDigest), [{"account": self.account, "sha256": d, "fetched_at": now()}
                                                        for d in wanted])

    def published_before(self, digests: Iterable[str]) -> set[str]:
        wanted = list(set(digests))
        if not wanted:
            return set()
        with self.sessions() as session:
            return set(session.scalars(select(FetchedDigest.sha256).where(
                FetchedDigest.account == self.account, FetchedDigest.sha256.in_(wanted))))
