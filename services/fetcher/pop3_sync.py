"""Reading a POP3 maildrop: each mail whose UIDL is not yet done is retrieved, stored and published;
its UIDL is recorded; only then is it deleted (when the account deletes). A mail imported as
archive (there before the first import) is not deleted: its UIDL is recorded as kept, until the
operator releases archived mail (``archived_mail: release``). Mails that
failed before come last, so a bad mail never holds back the ones behind it."""

from __future__ import annotations

import poplib
import threading
from dataclasses import dataclass

from services.fetcher.cursors import Cursor, CursorRepo
from services.fetcher.failedmail import FailedMailRepo
from shared.mailboxes.failures import FetchError
from services.fetcher.imap_sync import Ingest
from shared.mailboxes.mailconfig import Pop3Config
from shared.mailboxes.pop3 import Pop3Mailbox
from services.fetcher.uidls import ARCHIVE, DONE, HANDLED, KEPT, SKIPPED, UidlRepo
from shared.logging import get_logger

log = get_logger("postroom.fetcher.pop3")
MAILDROP = "(pop3)"  # the cursor row of a POP3 account: progress, and that the first sync happened


@dataclass
class Pop3Sync:
    account: str
    config: Pop3Config
    uidls: UidlRepo
    cursors: CursorRepo
    failed: FailedMailRepo
    ingest: Ingest

    def run(self, mailbox: Pop3Mailbox, stop: threading.Event) -> int:
        listing = mailbox.listing()
        states = self.uidls.states()
        cursor = self.cursors.load(MAILDROP) or self._first_sync(listing, states)
        skipped = set(self.failed.under("pop3:", state="skipped"))
        retrying = set(self.failed.under("pop3:", state="retrying"))
        todo = [(n, u) for n, u in listing if states.get(u) not in HANDLED and f"pop3:{u}" not in skipped]
        todo.sort(key=lambda item: f"pop3:{item[1]}" in retrying)
        if todo:
            cursor = cursor.begun(len(todo))
            self.cursors.save(MAILDROP, cursor)
        published = 0
        for start in range(0, len(todo), self.config.batch_size):
            if stop.is_set():
                break
            batch = todo[start:start + self.config.batch_size]
            done = self._import(mailbox, batch, states, retrying)
            cursor = cursor.advanced(0, len(done), len(todo) - start - len(batch))
            handled = {u: KEPT if states.get(u) == ARCHIVE else DONE for _, u in done}
            for state in (DONE, KEPT):
                self.uidls.set_state([u for u, s in handled.items() if s == state], state)
            self.cursors.save(MAILDROP, cursor)
            states.update(handled)
            published += len(done)
            log.info("batch published", account=self.account, published=len(done), backlog=cursor.backlog,
                     imported=cursor.imported)
        if self.config.after_fetch == "delete":
            # Ours and published: also those a cut session (no QUIT) failed to delete before; the
            # archived ones only once the operator releases them (archived_mail: release).
            deletable = (DONE, KEPT) if self.config.archived_mail == "release" else (DONE,)
            for number, uidl in listing:
                if states.get(uidl) in deletable:
                    mailbox.dele(number)
        present = {u for _, u in listing}
        self.uidls.forget(u for u in states if u not in present)
        return published

    def _first_sync(self, listing: list[tuple[int, str]], states: dict[str, str]) -> Cursor:
        mode = self.config.existing_mail
        if mode != "import" and not states:
            state = ARCHIVE if mode == "archive" else SKIPPED
            self.uidls.set_state([u for _, u in listing], state)
            states.update({u: state for _, u in listing})
        log.info("first sync of the maildrop", account=self.account, existing_mail=mode, existing=len(listing))
        cursor = Cursor(uidvalidity=0)
        self.cursors.save(MAILDROP, cursor)
        return cursor

    def _import(self, mailbox: Pop3Mailbox, batch: list[tuple[int, str]], states: dict[str, str],
                retrying: set[str]) -> list[tuple[int, str]]:
        done: list[tuple[int, str]] = []
        for number, uidl in batch:
            source_id = f"pop3:{uidl}"
            try:
                raw = mailbox.retr(number)
            except poplib.error_proto as exc:
                # The session may be out of step now: record what was done, then reconnect.
                state = self.failed.record(source_id, str(exc))
                for kept in (False, True):
                    self.uidls.set_state([u for _, u in done if (states.get(u) == ARCHIVE) == kept],
                                         KEPT if kept else DONE)
                raise FetchError("protocol", f"RETR of {source_id} failed ({state}): {exc}") from None
            self.ingest(source_id, raw, states.get(uidl) == ARCHIVE)
            if source_id in retrying:
                self.failed.resolve(source_id)
            done.append((number, uidl))
        return done
