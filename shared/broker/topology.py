"""The broker topology, declared by code in this one place (pure data; adapters declare it).

- ``<ns>postroom``: a topic exchange every event is published to, routing key ``<noun>.<verb>.v<N>``.
- one durable quorum queue per consumer, ``<consumer>.<what-it-consumes>``, with an explicit
  ``x-delivery-limit`` (RabbitMQ 3.10 has no default) dead-lettering to the consumer's DLQ;
- a retry ladder per consumer: ``<queue>.retry.<delay>``, each with a fixed TTL, dead-lettering back to
  the work queue through the default exchange (per-message TTLs in one queue would block short
  delays behind long ones: expiry is head-first);
- outage rungs for a consumer that waits out an outage of a server outside (the notifier, an SMTP
  server away): ``<queue>.wait.<delay>``, the same kind of queue, the last rung repeating (a capped
  backoff, with no retry count bound: the handler bounds the wait by age);
- ``<queue>.dlq`` per consumer, reached through the ``<ns>postroom.dlx`` direct exchange.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


def _delay_label(seconds: float) -> str:
    ms = round(seconds * 1000)
    for unit, size in (("h", 3_600_000), ("m", 60_000), ("s", 1000)):
        if ms % size == 0:
            return f"{ms // size}{unit}"
    return f"{ms}ms"


@dataclass(frozen=True)
class ConsumerSpec:
    name: str
    what: str  # what it consumes, for the queue name
    binds: tuple[str, ...]  # routing keys (every supported version)
    waits_out: bool = False  # has outage rungs (``shared.errors.WaitOut``)


CONSUMERS: dict[str, ConsumerSpec] = {
    spec.name: spec
    for spec in (
        ConsumerSpec("parser", "mail.fetched", ("mail.fetched.v1",)),
        ConsumerSpec("itemwriter", "mail.parsed", ("mail.parsed.v1",)),
        ConsumerSpec("notifier", "item.changed", ("item.changed.v1", "item.edited.v1", "reply.requested.v1"),
                     waits_out=True),
    )
}


@dataclass(frozen=True)
class QueueDecl:
    name: str
    arguments: dict[str, Any] = field(default_factory=dict)
    binds: tuple[str, ...] = ()  # routing keys on the events exchange
    dlx_key: str | None = None  # routing key on the dead-letter exchange


@dataclass(frozen=True)
class Topology:
    namespace: str = ""
    retry_delays: tuple[float, ...] = (1.0, 10.0, 60.0, 600.0)
    outage_delays: tuple[float, ...] = (5.0, 30.0, 120.0, 180.0)
    delivery_limit: int = 10

    @property
    def exchange(self) -> str:
        return f"{self.namespace}postroom"

    @property
    def dead_letter_exchange(self) -> str:
        return f"{self.namespace}postroom.dlx"

    def queue(self, consumer: str) -> str:
        spec = CONSUMERS[consumer]
        return f"{self.namespace}{spec.name}.{spec.what}"

    def ladder(self, consumer: str) -> tuple[float, ...]:
        """The delays of the consumer's rungs, by step: the retry ladder, then any outage rungs."""
        return self.retry_delays + (self.outage_delays if CONSUMERS[consumer].waits_out else ())

    def retry_queue(self, consumer: str, step: int) -> str:
        # The delay is in the name: a queue's TTL cannot change once declared, so a new ladder
        # declares new queues instead of failing with PRECONDITION_FAILED at every start.
        rung = "retry" if step < len(self.retry_delays) else "wait"
        return f"{self.queue(consumer)}.{rung}.{_delay_label(self.ladder(consumer)[step])}"

    def dead_letter_queue(self, consumer: str) -> str:
        return f"{self.queue(consumer)}.dlq"

    def retry_step(self, attempt: int) -> int:
        """Which rung of the ladder the ``attempt``-th retry waits on (the last rung repeats)."""
        return min(attempt, len(self.retry_delays) - 1)

    def outage_step(self, attempt: int) -> int:
        """Which outage rung the ``attempt``-th wait of an outage is on (the last, the cap, repeats)."""
        return len(self.retry_delays) + min(attempt, len(self.outage_delays) - 1)

    def outage_delay(self, attempt: int) -> float:
        return self.outage_delays[min(attempt, len(self.outage_delays) - 1)]

    def consumer_of_queue(self, queue: str) -> str:
        for name in CONSUMERS:
            if queue.startswith(self.queue(name)):
                return name
        raise KeyError(queue)

    def declarations(self) -> list[QueueDecl]:
        decls: list[QueueDecl] = []
        for name, spec in CONSUMERS.items():
            work, dlq = self.queue(name), self.dead_letter_queue(name)
            decls.append(QueueDecl(work, {
                "x-queue-type": "quorum",
                "x-delivery-limit": self.delivery_limit,
                "x-dead-letter-exchange": self.dead_letter_exchange,
                "x-dead-letter-routing-key": dlq,
            }, binds=spec.binds))
            for step, delay in enumerate(self.ladder(name)):
                decls.append(QueueDecl(self.retry_queue(name, step), {
                    "x-queue-type": "quorum",
                    "x-message-ttl": int(delay * 1000),
                    "x-dead-letter-exchange": "",
                    "x-dead-letter-routing-key": work,
                    # at-least-once dead-lettering keeps a retried message safe across node loss;
                    # RabbitMQ requires reject-publish overflow for it.
                    "x-dead-letter-strategy": "at-least-once",
                    "x-overflow": "reject-publish",
                }))
            decls.append(QueueDecl(dlq, {"x-queue-type": "quorum"}, dlx_key=dlq))
        return decls
