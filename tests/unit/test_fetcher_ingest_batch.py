"""A batch of fetched mails: stored side by side, then published in order with one wait for
confirms; none of it unless every one is stored."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from services.fetcher.ingest import ingest_batch
from shared.broker.memory import MemoryBroker
from shared.contracts.common import BlobRef
from shared.store import FilesystemBlobStore


class RefusingStore(FilesystemBlobStore):
    """A disk that fails on one mail's bytes (the disk is full, say)."""

    def __init__(self, root: Path, refuse: bytes) -> None:
        super().__init__(root)
        self.refuse = refuse

    def put(self, data: bytes) -> BlobRef:
        if data == self.refuse:
            raise OSError("No space left on device")
        return super().put(data)


def _broker() -> MemoryBroker:
    broker = MemoryBroker()
    broker.declare()
    return broker


def _published(broker: MemoryBroker) -> list[dict]:  # type: ignore[type-arg]
    return [json.loads(m.body)["payload"] for m in broker.published]


def test_every_mail_of_a_batch_is_stored_and_published_in_the_batchs_order(tmp_path: Path) -> None:
    """Forty mails: forty messages, in UID order, each naming bytes that are in the store."""
    store, broker = FilesystemBlobStore(tmp_path), _broker()
    mails = [(f"imap:INBOX:7:{uid}", f"mail {uid}".encode(), uid < 5) for uid in range(1, 41)]
    ingest_batch(account="support", source="imap", mails=mails, store=store, broker=broker)
    payloads = _published(broker)
    assert [p["source_id"] for p in payloads] == [m[0] for m in mails]
    assert [p["archive"] for p in payloads] == [m[2] for m in mails]
    assert [store.get(p["raw"]["key"]) for p in payloads] == [m[1] for m in mails]


def test_a_mail_whose_bytes_cannot_be_stored_stops_the_whole_batch(tmp_path: Path) -> None:
    """Nothing of the batch is published and the error goes up (the batch is not checkpointed:
    the next sync fetches it again)."""
    mails = [(f"imap:INBOX:7:{uid}", f"mail {uid}".encode(), False) for uid in range(1, 21)]
    store, broker = RefusingStore(tmp_path, refuse=b"mail 12"), _broker()
    with pytest.raises(OSError):
        ingest_batch(account="support", source="imap", mails=mails, store=store, broker=broker)
    assert _published(broker) == []
