"""The one way a raw mail enters the pipeline: store the bytes durably, publish with a confirm.
Only after this returns may the source release the mail (delete the file, flag the server copy)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from shared import metrics
from shared.broker.port import Broker
from shared.contracts import Envelope, MailFetched, derived_id
from shared.runner import to_outgoing
from shared.store import BlobStore


def ingest_raw(*, account: str, source: str, source_id: str, raw: bytes, store: BlobStore, broker: Broker,
               archive: bool = False) -> Envelope[Any]:
    ref = store.put(raw)
    fetched = MailFetched(account=account, source=source, source_id=source_id, raw=ref,
                          received_at=datetime.now(UTC), archive=archive)
    # The id derives from the source, so a mail published twice (crash before release) is one
    # message to every consumer downstream.
    envelope = Envelope.first(fetched, message_id=derived_id("mail.fetched", account, source_id))
    broker.publish([to_outgoing(envelope)])
    metrics.FETCHED.labels(account, "published").inc()
    return envelope
