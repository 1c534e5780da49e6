"""The one way a raw mail enters the pipeline: store the bytes durably, publish with a confirm.
Only after this returns may the source release the mail (delete the file, flag the server copy)."""

from __future__ import annotations

from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from typing import Any

from services.fetcher.gauges import record_lag
from shared import metrics
from shared.broker.port import Broker
from shared.contracts import Envelope, MailFetched, derived_id
from shared.runner import to_outgoing
from shared.contracts.common import BlobRef
from shared.store import BlobStore


def ingest_raw(*, account: str, source: str, source_id: str, raw: bytes, store: BlobStore, broker: Broker,
               archive: bool = False) -> Envelope[Any]:
    envelope = fetched_envelope(account, source, source_id, store.put(raw), archive)
    _publish(broker, account, [envelope])
    record_lag(account, [(raw, archive)])
    return envelope


def ingest_batch(*, account: str, source: str, mails: Sequence[tuple[str, bytes, bool]], store: BlobStore,
                 broker: Broker, parallel: int = 8) -> None:
    """``ingest_raw`` for ``(source_id, raw, archive)`` mails: their bytes are stored side by side
    (each put waits for the disk, and together their fsyncs overlap), then all are published in order
    with one wait for the broker's confirms. Nothing is released unless every one is confirmed; a
    batch published again is the same messages (their ids derive from the source)."""
    if len(mails) == 1:
        source_id, raw, archive = mails[0]
        ingest_raw(account=account, source=source, source_id=source_id, raw=raw, store=store, broker=broker,
                   archive=archive)
        return
    with ThreadPoolExecutor(max_workers=max(1, min(parallel, len(mails))), thread_name_prefix="store") as pool:
        refs = [pool.submit(store.put, raw) for _, raw, _ in mails]
        envelopes = [fetched_envelope(account, source, source_id, ref.result(), archive)
                     for (source_id, _, archive), ref in zip(mails, refs, strict=True)]
    _publish(broker, account, envelopes)
    record_lag(account, [(raw, archive) for _, raw, archive in mails])


def fetched_envelope(account: str, source: str, source_id: str, ref: BlobRef, archive: bool) -> Envelope[Any]:
    fetched = MailFetched(account=account, source=source, source_id=source_id, raw=ref,
                          received_at=datetime.now(UTC), archive=archive)
    # The id derives from the source, so a mail published twice (crash before release) is one
    # message to every consumer downstream.
    return Envelope.first(fetched, message_id=derived_id("mail.fetched", account, source_id))


def _publish(broker: Broker, account: str, envelopes: Sequence[Envelope[Any]]) -> None:
    broker.publish([to_outgoing(e) for e in envelopes])
    metrics.FETCHED.labels(account, "published").inc(len(envelopes))
