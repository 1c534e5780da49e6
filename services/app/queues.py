"""The figures behind the queue views (``postroom queues``, the API, the console): every queue of the
topology, sampled over AMQP (and over the management API when given), and the net rates between two
samples."""

from __future__ import annotations

import time
from dataclasses import asdict, dataclass, replace
from datetime import UTC, datetime
from typing import Any

from shared.broker.topology import CONSUMERS, Topology

UNAVAILABLE_OVER_AMQP = ("unacked", "publish_rate", "deliver_rate")


@dataclass(frozen=True)
class QueueRow:
    queue: str
    consumer: str
    role: str  # work | retry | dlq
    exists: bool
    ready: int | None
    consumers: int | None
    unacked: int | None = None  # management API only
    publish_rate: float | None = None  # management API only
    deliver_rate: float | None = None  # management API only
    net_rate: float | None = None  # change of ``ready`` per second since the previous sample


@dataclass(frozen=True)
class Snapshot:
    taken_at: float
    source: str  # amqp | management
    rows: tuple[QueueRow, ...]

    def dead_letters(self) -> dict[str, int | None]:
        return {r.consumer: r.ready for r in self.rows if r.role == "dlq"}

    def unavailable(self) -> list[str]:
        missing = [] if self.source == "management" else list(UNAVAILABLE_OVER_AMQP)
        if all(r.net_rate is None for r in self.rows):
            missing.append("net_rate")
        return missing

    def as_json(self) -> dict[str, Any]:
        return {"taken_at": datetime.fromtimestamp(self.taken_at, UTC).isoformat(), "source": self.source,
                "queues": [asdict(r) for r in self.rows], "dead_letters": self.dead_letters(),
                "unavailable": self.unavailable()}


def topology_queues(topology: Topology) -> list[tuple[str, str, str]]:
    """(queue, consumer, role) for every queue the services declare, in a reading order."""
    out = []
    for consumer in CONSUMERS:
        out.append((topology.queue(consumer), consumer, "work"))
        out += [(topology.retry_queue(consumer, step), consumer, "retry" if step < len(topology.retry_delays)
                 else "wait") for step in range(len(topology.ladder(consumer)))]  # wait: the outage rungs
        out.append((topology.dead_letter_queue(consumer), consumer, "dlq"))
    return out


def snapshot(amqp_url: str, topology: Topology, management_url: str | None = None) -> Snapshot:
    queues = topology_queues(topology)
    names = [q for q, _, _ in queues]
    taken_at = time.time()
    if management_url:
        from shared.broker.management import queue_stats

        managed = queue_stats(management_url, amqp_url, names)
        rows = [QueueRow(q, c, role, True, m.ready, m.consumers, m.unacked, m.publish_rate, m.deliver_rate)
                if (m := managed[q]) is not None else QueueRow(q, c, role, False, None, None)
                for q, c, role in queues]
        return Snapshot(taken_at, "management", tuple(rows))
    from shared.broker.admin import queue_counts

    counts = queue_counts(amqp_url, names)
    rows = [QueueRow(q, c, role, True, n.ready, n.consumers) if (n := counts[q]) is not None
            else QueueRow(q, c, role, False, None, None) for q, c, role in queues]
    return Snapshot(taken_at, "amqp", tuple(rows))


def with_net_rates(current: Snapshot, previous: Snapshot | None) -> Snapshot:
    """Ready messages gained (+) or drained (-) per second since ``previous``: what went in minus
    what went out, measured, not the publish or deliver rate (AMQP tells neither)."""
    if previous is None:
        return current
    elapsed = current.taken_at - previous.taken_at
    before = {r.queue: r.ready for r in previous.rows}

    def rated(r: QueueRow) -> QueueRow:
        earlier = before.get(r.queue)
        if elapsed <= 0 or r.ready is None or earlier is None:
            return r
        return replace(r, net_rate=round((r.ready - earlier) / elapsed, 2))

    rows = tuple(rated(r) for r in current.rows)
    return replace(current, rows=rows)
