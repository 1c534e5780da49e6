"""Building blocks for tests: sample contracts, a consumer running in a thread, services running in
threads."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any, Protocol

from shared.broker.port import Broker
from shared.contracts import BlobRef, Envelope, MailFetched
from shared.runner import BatchHandler, Handler, Runner

# A token secret the services accept (32 bytes or more, not the built-in one), for settings and
# service processes the tests start.
TOKEN_SECRET = "postroom-test-token-secret-not-for-production-use"


def fetched(source_id: str, account: str = "demo") -> Envelope[Any]:
    payload = MailFetched(account=account, source="stdin", source_id=source_id,
                          raw=BlobRef(key="sha256:" + "0" * 64, size=10, sha256="0" * 64),
                          received_at=datetime(2026, 11, 26, tzinfo=UTC))
    return Envelope.first(payload)


@contextmanager
def consuming(broker: Broker, consumer: str, handler: Handler | BatchHandler, *, max_retries: int,
              retry_step: Any, batch: int = 1, outage_step: Any = None) -> Iterator[threading.Event]:
    stop = threading.Event()
    ready = threading.Event()
    runner = Runner(consumer, broker, handler, max_retries=max_retries, retry_step=retry_step,
                    outage_step=outage_step)
    thread = threading.Thread(target=broker.consume, args=(consumer, runner, stop),
                              kwargs={"on_ready": lambda r: ready.set() if r else None, "batch": batch},
                              daemon=True)
    thread.start()
    assert ready.wait(10), "consumer did not become ready"
    try:
        yield stop
    finally:
        stop.set()
        thread.join(timeout=15)


class Runnable(Protocol):
    """A service as its composition root builds it: the fetcher, a consumer stage."""

    def run(self, stop: threading.Event) -> None: ...


@contextmanager
def running(*services: Runnable) -> Iterator[threading.Event]:
    """Each service's ``run`` in a thread until the block ends, then stopped as on SIGTERM (the
    event set) and waited for."""
    stop = threading.Event()
    threads = [threading.Thread(target=service.run, args=(stop,), daemon=True) for service in services]
    for thread in threads:
        thread.start()
    try:
        yield stop
    finally:
        stop.set()
        for thread in threads:
            thread.join(timeout=30)
        alive = [type(service).__name__ for service, thread in zip(services, threads, strict=True)
                 if thread.is_alive()]
        assert not alive, f"did not stop: {alive}"
