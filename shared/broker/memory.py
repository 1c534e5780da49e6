"""An in-memory broker with the same topology semantics as RabbitMQ: topic routing, ``mandatory``,
retry queues with a TTL that dead-letter back, dead-letter queues and a delivery limit.

Used by the unit tests and by ``make up`` when no RabbitMQ answers. It keeps nothing across
restarts and cannot be shared between processes.
"""

from __future__ import annotations

import heapq
import itertools
import threading
import time
from collections import deque
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from shared.broker.port import Delivery, Outgoing, PublishFailed
from shared.broker.topology import CONSUMERS, Topology


@dataclass
class _Message:
    body: bytes
    headers: dict[str, Any]
    routing_key: str
    delivery_count: int = 0


@dataclass
class _Queue:
    messages: deque[_Message] = field(default_factory=deque)
    binds: tuple[str, ...] = ()


class MemoryDelivery:
    def __init__(self, broker: MemoryBroker, consumer: str, message: _Message) -> None:
        self._broker, self._consumer, self._message = broker, consumer, message
        self.body = message.body
        self.headers: Mapping[str, Any] = dict(message.headers)
        self.queue = broker.topology.queue(consumer)
        self.redelivered = message.delivery_count > 0
        self.settled = False

    def ack(self) -> None:
        self.settled = True

    def retry(self, body: bytes, step: int, headers: Mapping[str, Any]) -> None:
        delay = self._broker.topology.ladder(self._consumer)[step]
        self._broker._schedule(delay, self.queue, _Message(body, dict(headers), self._message.routing_key))
        self.ack()

    def dead_letter(self, headers: Mapping[str, Any]) -> None:
        self._broker._enqueue(self._broker.topology.dead_letter_queue(self._consumer),
                              _Message(self.body, {**self._message.headers, **headers}, self._message.routing_key))
        self.ack()


class MemoryBroker:
    def __init__(self, topology: Topology | None = None) -> None:
        self.topology = topology or Topology()
        self._queues: dict[str, _Queue] = {}
        self._delayed: list[tuple[float, int, str, _Message]] = []
        self._seq = itertools.count()
        self._cond = threading.Condition()
        self.published: list[Outgoing] = []  # for tests: everything ever published, in order

    def declare(self, connect_retries: int = 0) -> None:
        with self._cond:
            for name, spec in CONSUMERS.items():
                self._queues.setdefault(self.topology.queue(name), _Queue(binds=spec.binds))
                self._queues.setdefault(self.topology.dead_letter_queue(name), _Queue())

    def publish(self, messages: Sequence[Outgoing]) -> None:
        failed = self.publish_groups([messages])[0]
        if failed is not None:
            raise failed

    def publish_groups(self, groups: Sequence[Sequence[Outgoing]]) -> list[PublishFailed | None]:
        results: list[PublishFailed | None] = []
        with self._cond:
            for group in groups:
                targets = []
                for msg in group:
                    queues = [q for q, state in self._queues.items() if msg.routing_key in state.binds]
                    if not queues:
                        break
                    targets.append((msg, queues))
                else:
                    results.append(None)
                    self._route(targets)
                    continue
                results.append(PublishFailed(f"unroutable: no queue bound to {msg.routing_key!r}"))
            self._cond.notify_all()
        return results

    def ack(self, deliveries: Sequence[Delivery]) -> None:
        for delivery in deliveries:
            delivery.ack()

    def _route(self, targets: list[tuple[Outgoing, list[str]]]) -> None:
        for msg, queues in targets:
            self.published.append(msg)
            headers = {**msg.headers, "message_id": msg.message_id, "correlation_id": msg.correlation_id}
            for q in queues:
                self._queues[q].messages.append(_Message(msg.body, dict(headers), msg.routing_key))

    def _enqueue(self, queue: str, message: _Message) -> None:
        with self._cond:
            self._queues.setdefault(queue, _Queue()).messages.append(message)
            self._cond.notify_all()

    def _schedule(self, delay: float, queue: str, message: _Message) -> None:
        with self._cond:
            heapq.heappush(self._delayed, (time.monotonic() + delay, next(self._seq), queue, message))
            self._cond.notify_all()

    def _release_due(self) -> float | None:
        """Move due delayed messages to their queues; return seconds until the next is due."""
        now = time.monotonic()
        while self._delayed and self._delayed[0][0] <= now:
            _, _, queue, message = heapq.heappop(self._delayed)
            self._queues.setdefault(queue, _Queue()).messages.append(message)
        return self._delayed[0][0] - now if self._delayed else None

    def consume(self, consumer: str, callback: Callable[[Sequence[Delivery]], None], stop: threading.Event,
                on_ready: Callable[[bool], None] = lambda ready: None, batch: int = 1) -> None:
        queue = self.topology.queue(consumer)
        on_ready(True)
        try:
            while not stop.is_set():
                with self._cond:
                    due = self._release_due()
                    q = self._queues.setdefault(queue, _Queue())
                    if not q.messages:
                        self._cond.wait(timeout=min(due, 0.2) if due is not None else 0.2)
                        continue
                    messages = [q.messages.popleft() for _ in range(min(batch, len(q.messages)))]
                deliveries = [MemoryDelivery(self, consumer, m) for m in messages]
                try:
                    callback(deliveries)
                finally:
                    # What the callback left unsettled (it died, or a publish failed): like a crash,
                    # back to the head of the queue in order.
                    for delivery, message in reversed(list(zip(deliveries, messages, strict=True))):
                        if not delivery.settled:
                            self._return_unsettled(consumer, message)
        finally:
            on_ready(False)

    def _return_unsettled(self, consumer: str, message: _Message) -> None:
        message.delivery_count += 1
        if message.delivery_count > self.topology.delivery_limit:
            message.headers["x-first-death-reason"] = "delivery_limit"
            self._enqueue(self.topology.dead_letter_queue(consumer), message)
        else:
            with self._cond:
                self._queues[self.topology.queue(consumer)].messages.appendleft(message)

    def depth(self, queue: str) -> int:
        with self._cond:
            self._release_due()
            return len(self._queues.get(queue, _Queue()).messages)

    def messages(self, queue: str) -> list[tuple[bytes, dict[str, Any]]]:
        with self._cond:
            return [(m.body, dict(m.headers)) for m in self._queues.get(queue, _Queue()).messages]

    def idle(self) -> bool:
        """No message waiting anywhere except in dead-letter queues (for tests and ``run all``)."""
        with self._cond:
            dlqs = {self.topology.dead_letter_queue(c) for c in CONSUMERS}
            return not self._delayed and all(not q.messages for n, q in self._queues.items() if n not in dlqs)

    def close(self) -> None:
        pass
