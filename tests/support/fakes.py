"""Fakes of our own ports that keep (almost) nothing, for measuring the fetcher's own memory."""

from __future__ import annotations

import hashlib
import json
import threading
from collections import Counter
from collections.abc import Callable, Iterable, Sequence

from shared.broker.port import Delivery, Outgoing
from shared.contracts import BlobRef
from shared.store import BlobNotFound


class CountingBroker:
    """A Broker that only counts the source ids it is asked to publish."""

    def __init__(self) -> None:
        self.source_ids: Counter[str] = Counter()

    def declare(self) -> None:
        pass

    def publish(self, messages: Sequence[Outgoing]) -> None:
        for message in messages:
            self.source_ids[json.loads(message.body)["payload"]["source_id"]] += 1

    def consume(self, consumer: str, callback: Callable[[Sequence[Delivery]], None], stop: threading.Event,
                on_ready: Callable[[bool], None] = lambda ready: None, batch: int = 1) -> None:
        raise NotImplementedError("publish-only fake")

    def close(self) -> None:
        pass


class DigestOnlyStore:
    """A BlobStore that hands out keys and keeps no bytes."""

    def put(self, data: bytes) -> BlobRef:
        digest = hashlib.sha256(data).hexdigest()
        return BlobRef(key=f"sha256:{digest}", size=len(data), sha256=digest)

    def put_chunks(self, chunks: Iterable[bytes]) -> BlobRef:
        digest, size = hashlib.sha256(), 0
        for chunk in chunks:
            digest.update(chunk)
            size += len(chunk)
        return BlobRef(key=f"sha256:{digest.hexdigest()}", size=size, sha256=digest.hexdigest())

    def get(self, key: str) -> bytes:
        raise BlobNotFound(key)

    def exists(self, key: str) -> bool:
        return False
