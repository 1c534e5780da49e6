"""Reading one IMAP folder: every mail above the cursor, in batches, published before anything is
done to it on the server.

Per batch: one FETCH of the sizes, FETCHes of at most ``batch_size`` mails and ``batch_bytes``
bytes, store them side by side and publish each in UID order (``ingest``), checkpoint the cursor,
then mark/move/delete exactly the UIDs the checkpoint covers. The next batch is fetched while one
is stored and published (two batches in memory at most). A crash between publish and checkpoint
republishes that one batch, with the same message ids (the itemwriter drops the copies); a crash
between checkpoint and release leaves the release to the next sync, which redoes it for the UIDs
above ``released_uid`` only.
"""

from __future__ import annotations

import hashlib
import threading
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace

from services.fetcher.cursors import Cursor, CursorRepo
from services.fetcher.failedmail import FailedMailRepo
from shared.mailboxes.imap import ImapFolder, ServerRefused, sequence_set
from shared.mailboxes.mailconfig import ImapConfig
from shared.logging import get_logger

log = get_logger("postroom.fetcher.imap")

Ingest = Callable[[str, bytes, bool], None]  # (source_id, raw, archive): store and publish
IngestBatch = Callable[[list[tuple[str, bytes, bool]]], None]  # the same for a batch, published in order


@dataclass
class ImapSync:
    account: str
    config: ImapConfig
    folder: ImapFolder
    cursors: CursorRepo
    failed: FailedMailRepo
    ingest: IngestBatch

    @property
    def _prefix(self) -> str:
        return f"imap:{self.config.folder}:"

    def source_id(self, uidvalidity: int, uid: int) -> str:
        return f"{self._prefix}{uidvalidity}:{uid}"

    def retries_pending(self) -> bool:
        return bool(self.failed.under(self._prefix, state="retrying"))

    def run(self, stop: threading.Event) -> int:
        """One pass over the folder; return how many mails were published."""
        cursor = self._start(*self.folder.select())
        cursor = self._release(cursor)
        published = self._retry_failed(cursor)
        # Until a search finds nothing new: news of a mail that arrived during this pass may have
        # come (and been swallowed) in the answer to one of our commands, and IDLE would not repeat it.
        # One thread fetches the next batch while this one is stored and published; the connection
        # is never used by both at once (the release waits for the fetch).
        with ThreadPoolExecutor(max_workers=1, thread_name_prefix="imap-prefetch") as prefetch:
            while not stop.is_set() and (uids := self.folder.uids_after(cursor.last_uid)):
                backlog = len(uids)
                cursor = cursor.begun(backlog)
                self.cursors.save(self.config.folder, cursor)  # "to go" shows before the first batch is in
                batches = self._batches(uids)
                ready = self._next(cursor, batches)
                while ready is not None and not stop.is_set():
                    batch, raws = ready
                    following = prefetch.submit(self._next, cursor, batches)
                    backlog -= len(batch)
                    cursor, count = self._publish(cursor, batch, raws, backlog)
                    ready = following.result()
                    cursor = self._release(cursor)
                    published += count
        return published

    def _next(self, cursor: Cursor, batches: Iterator[list[int]]) -> tuple[list[int], dict[int, bytes]] | None:
        batch = next(batches, None)
        return None if batch is None else (batch, self._fetch(cursor, batch))

    def _start(self, uidvalidity: int, uidnext: int) -> Cursor:
        cursor = self.cursors.load(self.config.folder)
        top = uidnext - 1
        if cursor is None:
            mode = self.config.existing_mail
            cursor = Cursor(uidvalidity, archive_until=top if mode == "archive" else 0)
            if mode == "skip":
                cursor = replace(cursor, last_uid=top, released_uid=top)
            log.info("first sync of the folder", account=self.account, folder=self.config.folder,
                     existing_mail=mode, existing_up_to_uid=top)
        elif cursor.uidvalidity != uidvalidity:
            # RFC 3501 2.3.1.1: every UID is void. Start over, but do not publish again a mail whose
            # bytes were already published (recorded digests), and keep an unfinished archive import.
            archive = top if cursor.last_uid < cursor.archive_until else 0
            log.warning("UIDVALIDITY changed: resyncing the folder", account=self.account,
                        folder=self.config.folder, old=cursor.uidvalidity, new=uidvalidity, up_to_uid=top)
            # Archived mail kept on the server has new UIDs too: release nothing up to the new top (what
            # is new among it is imported all the same, and left where it is).
            kept = top if cursor.archive_until and self.config.archived_mail == "keep" else 0
            cursor = Cursor(uidvalidity, released_uid=kept, resync_until=top, archive_until=archive,
                            imported=cursor.imported)
            self.failed.forget_except(self._prefix, keep=f"{self._prefix}{uidvalidity}:")
        else:
            return cursor
        self.cursors.save(self.config.folder, cursor)
        return cursor

    def _batches(self, uids: list[int]) -> Iterator[list[int]]:
        size = self.config.batch_size
        for start in range(0, len(uids), size):
            chunk = uids[start:start + size]
            sizes = self.folder.sizes(chunk)
            batch: list[int] = []
            total = 0
            for uid in chunk:
                if batch and total + sizes.get(uid, 0) > self.config.batch_bytes:
                    yield batch
                    batch, total = [], 0
                batch.append(uid)
                total += sizes.get(uid, 0)
            if batch:
                yield batch

    def _fetch(self, cursor: Cursor, uids: list[int]) -> dict[int, bytes]:
        """The batch's mails; one that the server will not give (but still has) is recorded."""
        errors: dict[int, str] = {}
        try:
            raws = self.folder.fetch(uids)
        except ServerRefused:  # one bad mail fails the whole FETCH: find it, take the others
            raws = {}
            for uid in uids:
                try:
                    raws.update(self.folder.fetch([uid]))
                except ServerRefused as exc:
                    errors[uid] = str(exc)
        missing = [uid for uid in uids if uid not in raws]
        for uid in sorted(self.folder.existing(missing)):  # the others were expunged meanwhile
            source_id = self.source_id(cursor.uidvalidity, uid)
            state = self.failed.record(source_id, errors.get(uid, "the server returned no body"))
            log.warning("mail not fetched", account=self.account, source_id=source_id, state=state,
                        error=errors.get(uid, "no body"))
        return raws

    def _publish(self, cursor: Cursor, uids: list[int], raws: dict[int, bytes], backlog: int) -> tuple[Cursor, int]:
        digests = {uid: hashlib.sha256(raw).hexdigest() for uid, raw in raws.items()}
        known = self.cursors.published_before(d for u, d in digests.items() if u <= cursor.resync_until)
        # published before the UIDVALIDITY change: skipped
        fresh = [uid for uid in sorted(raws) if not (uid <= cursor.resync_until and digests[uid] in known)]
        self.ingest([(self.source_id(cursor.uidvalidity, uid), raws[uid], uid <= cursor.archive_until)
                     for uid in fresh])
        for uid in fresh:
            log.info("fetched", account=self.account, source_id=self.source_id(cursor.uidvalidity, uid),
                     size=len(raws[uid]))
        published = [digests[uid] for uid in fresh]
        cursor = cursor.advanced(max(uids), len(published), backlog)
        self.cursors.save(self.config.folder, cursor, published)
        log.info("batch published", account=self.account, folder=self.config.folder, published=len(published),
                 skipped_known=len(raws) - len(published), last_uid=cursor.last_uid, backlog=backlog,
                 imported=cursor.imported)
        return cursor, len(published)

    def _release(self, cursor: Cursor) -> Cursor:
        """Mark, move or delete the published UIDs above ``released_uid``, never a failed one, and never
        one imported as archive: that mail stays on the server as it was until the operator decides."""
        cursor = self._release_archive(cursor)
        if cursor.released_uid >= cursor.last_uid:
            return cursor
        held = [int(s.rsplit(":", 1)[1]) for s in self.failed.under(f"{self._prefix}{cursor.uidvalidity}:")]
        low = max(cursor.released_uid, cursor.archive_until) + 1
        if low <= cursor.last_uid:
            self._act(sequence_set(low, cursor.last_uid, held))
        cursor = replace(cursor, released_uid=cursor.last_uid)
        self.cursors.save(self.config.folder, cursor)
        return cursor

    def _release_archive(self, cursor: Cursor) -> Cursor:
        """``archived_mail: release`` once the archive import is done: the after-fetch action for the
        archived UIDs (never a failed one), and the archive bound cleared, so it happens once."""
        done = cursor.archive_until and cursor.last_uid >= cursor.archive_until
        if not done or self.config.archived_mail != "release":
            return cursor
        held = [int(s.rsplit(":", 1)[1]) for s in self.failed.under(f"{self._prefix}{cursor.uidvalidity}:")]
        self._act(sequence_set(1, min(cursor.archive_until, cursor.released_uid), held))
        log.info("archived mail released", account=self.account, folder=self.config.folder,
                 up_to_uid=cursor.archive_until, action=self.config.after_fetch)
        cursor = replace(cursor, archive_until=0)
        self.cursors.save(self.config.folder, cursor)
        return cursor

    def _act(self, uids: str) -> None:
        if not uids or self.config.after_fetch == "leave":
            return
        if self.config.after_fetch == "mark_read":
            self.folder.mark_seen(uids)
        elif self.config.after_fetch == "move":
            self.folder.move(uids, self.config.move_to or "")
        elif not self.folder.delete(uids):
            log.warning("the server lacks UIDPLUS: mails flagged \\Deleted but not expunged (a plain "
                        "EXPUNGE would remove other clients' deleted mail too)", account=self.account)

    def _retry_failed(self, cursor: Cursor) -> int:
        published = 0
        for source_id in self.failed.under(f"{self._prefix}{cursor.uidvalidity}:", state="retrying"):
            uid = int(source_id.rsplit(":", 1)[1])
            raws = self._fetch(cursor, [uid])
            if uid not in raws:
                if not self.folder.existing([uid]):
                    self.failed.resolve(source_id)  # gone from the server: nothing left to fetch
                continue
            self.ingest([(source_id, raws[uid], uid <= cursor.archive_until)])
            self.cursors.save(self.config.folder, cursor, [hashlib.sha256(raws[uid]).hexdigest()])
            self.failed.resolve(source_id)
            if uid > cursor.archive_until:
                self._act(str(uid))
            published += 1
        return published
