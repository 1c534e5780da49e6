"""The broker port: what the runner and the services need from a broker, nothing more.

Two adapters implement it: ``KombuBroker`` (RabbitMQ) and ``MemoryBroker`` (one process, for unit
tests and for ``make up`` without a broker). The same behaviour tests run against both.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

# Headers set on dead letters, read by ``postroom dlq``.
H_STAGE = "x-postroom-stage"
H_REASON = "x-postroom-reason"
H_EXCEPTION = "x-postroom-exception"
H_ATTEMPTS = "x-postroom-attempts"
H_QUEUE = "x-postroom-queue"
H_DEAD_AT = "x-postroom-dead-at"
# Headers set by ``postroom dlq replay`` on the message it sends back to the work queue.
H_REPLAYS = "x-postroom-replays"
H_REPLAYED_AT = "x-postroom-replayed-at"
H_REPLAYED_FROM = "x-postroom-replayed-from"
H_PREVIOUS_REASON = "x-postroom-previous-reason"


class PublishFailed(Exception):
    """The broker did not confirm the message (nack, no route, connection lost)."""


class BrokerUnavailable(Exception):
    """The broker could not be reached (refused, timed out, unknown host): worth trying again later."""


@dataclass(frozen=True)
class Outgoing:
    routing_key: str
    body: bytes
    message_id: str
    correlation_id: str
    headers: Mapping[str, Any] = field(default_factory=dict)


class Delivery(Protocol):
    body: bytes
    headers: Mapping[str, Any]
    queue: str
    redelivered: bool

    def ack(self) -> None: ...

    def retry(self, body: bytes, step: int, headers: Mapping[str, Any]) -> None:
        """Publish (confirmed) to the retry queue of ``step``, then ack."""

    def dead_letter(self, headers: Mapping[str, Any]) -> None:
        """Publish (confirmed) the original body to the DLQ with ``headers`` added, then ack."""


class Broker(Protocol):
    def declare(self, connect_retries: int = 3) -> None:
        """Declare the whole topology (idempotent); every service does it at start. Raise
        ``BrokerUnavailable`` when no connection could be made in 1 + ``connect_retries`` tries."""

    def publish(self, messages: Sequence[Outgoing]) -> None:
        """Publish each with confirms and ``mandatory``; raise ``PublishFailed`` unless all are routed."""

    def publish_groups(self, groups: Sequence[Sequence[Outgoing]]) -> list[PublishFailed | None]:
        """Publish every group's messages, waiting for all their confirms at once; per group, None when
        each of its messages was confirmed and routed, else why not (the other groups still count)."""

    def ack(self, deliveries: Sequence[Delivery]) -> None:
        """Ack each of ``deliveries`` (of this broker's ``consume``), all in one trip to the consuming
        connection; the same as ``delivery.ack()`` on each, in order."""

    def consume(self, consumer: str, callback: Callable[[Sequence[Delivery]], None], stop: threading.Event,
                on_ready: Callable[[bool], None] = lambda ready: None, batch: int = 1) -> None:
        """Hand the messages of ``consumer``'s queue to ``callback`` until ``stop`` is set: those already
        waiting, up to ``batch`` at a time (never waiting for more to arrive)."""

    def close(self) -> None: ...
