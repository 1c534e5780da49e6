"""Mail API sources (Graph, Gmail) through the pipeline: each mail of a batch stored and published
by ``ingest_raw``, and only then released at the source (marked read, moved, deleted) and the
cursor advanced. A failure mid-batch releases what was published and keeps the cursor, so the rest
comes again next time (and a mail published twice is one message downstream: its id derives from
the source id)."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Protocol

from services.fetcher.ingest import ingest_raw
from shared.broker.port import Broker
from shared.logging import get_logger
from shared.store import BlobStore

log = get_logger("postroom.fetcher.api")


@dataclass
class Batch:
    mails: list[tuple[str, bytes]] = field(repr=False)  # (source id, raw bytes)
    archive: bool = False  # mail that was there before the first import, when configured as archive


class MailSource(Protocol):
    source: str  # "graph" | "gmail"

    def batches(self) -> Iterator[Batch]: ...

    def release(self, batch: Batch, source_ids: list[str], complete: bool) -> None:
        """Apply the after-fetch action to ``source_ids``; when ``complete``, advance the cursor past
        the batch."""


def sync_source(account: str, source: MailSource, store: BlobStore, broker: Broker,
                stop: threading.Event | None = None) -> int:
    done_total = 0
    for batch in source.batches():
        done: list[str] = []
        try:
            for source_id, raw in batch.mails:
                ingest_raw(account=account, source=source.source, source_id=source_id, raw=raw, store=store,
                           broker=broker, archive=batch.archive)
                done.append(source_id)
        except BaseException:
            if done:
                source.release(batch, done, complete=False)
            log.warning("batch not complete; the rest comes again", account=account, published=len(done),
                        batch=len(batch.mails))
            raise
        source.release(batch, done, complete=True)
        done_total += len(done)
        if stop is not None and stop.is_set():
            break
    return done_total
