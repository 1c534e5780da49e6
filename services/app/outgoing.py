"""Messages from people's work to the pipeline, through a transactional outbox: ``queue`` writes the
message in the transaction of the change it reports; ``Relay`` publishes what is committed and not
yet published (right after the commit, and again on a timer for what a crash or a broker outage left
behind). A message may go twice after a crash between the publish and its mark; every consumer is
idempotent on the envelope's id, so twice is once."""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy import select, update
from sqlalchemy.orm import Session, sessionmaker

from shared.broker.port import Broker, Outgoing, PublishFailed
from shared.contracts import Envelope
from shared.contracts.envelope import Contract
from shared.db.engine import transaction
from shared.db.models import PendingMessage, utcnow
from shared.logging import get_logger

log = get_logger("postroom.app.outgoing")


def queue(session: Session, payload: Contract, *, message_id: str | None = None) -> Envelope[Contract]:
    envelope = Envelope.first(payload, message_id=message_id)
    session.add(PendingMessage(message_id=envelope.message_id, routing_key=payload.ROUTING_KEY,
                               body=envelope.to_json()))
    return envelope


@dataclass
class Relay:
    sessions: sessionmaker[Session]
    broker: Broker
    batch: int = 100

    def publish_pending(self) -> int:
        """Publish the oldest unpublished messages (with confirms), mark them; how many went."""
        with transaction(self.sessions) as session:
            query = select(PendingMessage).where(PendingMessage.published_at.is_(None)).order_by(PendingMessage.id)
            if session.get_bind().dialect.name == "postgresql":
                query = query.with_for_update(skip_locked=True)  # replicas share the work
            rows = list(session.scalars(query.limit(self.batch)))
            if not rows:
                return 0
            try:
                self.broker.publish([Outgoing(r.routing_key, r.body, r.message_id, r.message_id) for r in rows])
            except (PublishFailed, OSError, ConnectionError) as exc:
                log.warning("publishing to the pipeline failed; retried", error=str(exc), waiting=len(rows))
                session.execute(update(PendingMessage).where(PendingMessage.id.in_([r.id for r in rows]))
                                .values(error=str(exc)[:500]))
                return 0
            now = utcnow()
            for row in rows:
                row.published_at, row.error = now, ""
            return len(rows)

    def run(self, stop: threading.Event, wake: threading.Event, interval: float = 2.0,
            tick: Callable[[], None] = lambda: None) -> None:
        """Until ``stop``: publish whenever ``wake`` is set (after a commit) or every ``interval``;
        ``tick`` after each round (the liveness probe's heartbeat)."""
        while not stop.is_set():
            tick()
            wake.clear()
            try:
                while self.publish_pending() == self.batch:
                    pass
            except Exception as exc:  # the database away: the next round tries again
                log.warning("relay round failed", error=f"{type(exc).__name__}: {exc}")
            wake.wait(interval)
