"""Sends waiting out an SMTP outage. An event whose mail the server could not take (``WaitOut``) keeps
its pending outbox rows, now with the last error and when the next attempt is due (the runner puts
the event on the outage rungs: a backoff with a cap). Once its first attempt (the rows' creation) is
``max_age`` old, its pending rows are recorded on the item as failed, counted in
``postroom_outbound_given_up_total``, and the event is settled: no mail goes out later than that.

The gauges of what is pending (``postroom_outbound_pending``, ``postroom_outbound_pending_oldest_seconds``)
are read from the database after a batch that waited, while anything is pending, and now and then."""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session, sessionmaker

from services.notifier.intents import count
from shared import metrics
from shared.contracts import Envelope
from shared.db.engine import transaction
from shared.db.models import OutboundMail, as_utc, utcnow
from shared.errors import WaitOut
from shared.logging import get_logger
from shared.runner import Result

log = get_logger("postroom.notifier")

_OUTBOX = OutboundMail.__table__
_PENDING_NOW = select(func.count(), func.min(_OUTBOX.c.created_at)).where(_OUTBOX.c.status == "pending")


@dataclass
class Waits:
    sessions: sessionmaker[Session]
    max_age: timedelta
    delay: Callable[[int], float]  # seconds until the next try of an event at this attempt (its outage rung)
    clock: Callable[[], datetime] = utcnow
    refresh_seconds: float = 30.0
    _oldest: datetime | None = None
    _pending: int = 0
    _published_at: float | None = field(default=None, repr=False)

    def __post_init__(self) -> None:
        metrics.OUTBOUND_PENDING_OLDEST.set_function(self._oldest_age)

    def settle(self, envelopes: Sequence[Envelope[Any]], results: list[Result]) -> None:
        """Note each waiting event's last error and next attempt; settle those waiting too long."""
        waiting = {e.message_id: i for i, (e, r) in enumerate(zip(envelopes, results, strict=True))
                   if isinstance(r, WaitOut)}
        if waiting:
            try:
                self._settle(envelopes, results, waiting)
            except DBAPIError as exc:  # noted at the next try; the event waits on its rung meanwhile
                log.warning("waiting sends not noted", error=type(exc).__name__)
        if waiting or self._pending or self._published_at is None \
                or time.monotonic() - self._published_at >= self.refresh_seconds:
            self.publish()

    def _settle(self, envelopes: Sequence[Envelope[Any]], results: list[Result], waiting: dict[str, int]) -> None:
        t, now = _OUTBOX, self.clock()
        with transaction(self.sessions) as session:
            conn = session.connection()
            rows = conn.execute(select(t.c.event_id, t.c.kind, t.c.account, t.c.created_at)
                                .where(t.c.event_id.in_(list(waiting)), t.c.status == "pending")).all()
            firsts: dict[str, datetime] = {}
            for r in rows:
                created = as_utc(r.created_at)
                assert created is not None
                firsts[r.event_id] = min(firsts.get(r.event_id, created), created)
            for event_id, first in firsts.items():
                index = waiting[event_id]
                error, pending = str(results[index])[:1000], (t.c.event_id == event_id) & (t.c.status == "pending")
                if now - first < self.max_age:
                    due = now + timedelta(seconds=self.delay(envelopes[index].attempt))
                    conn.execute(update(t).where(pending).values(reason=error, next_attempt_at=due))
                    continue
                conn.execute(update(t).where(pending).values(
                    status="failed", next_attempt_at=None,
                    reason=f"not sent within {_age(self.max_age)} of the first attempt: {error}"))
                for r in rows:
                    if r.event_id == event_id:
                        metrics.OUTBOUND_GIVEN_UP.labels(r.kind).inc()
                        count(r.kind, r.account, "failed")
                log.error("send given up: the SMTP server did not take it in time", event_id=event_id,
                          max_age=_age(self.max_age), error=error)
                results[index] = []  # settled: recorded on the item as failed

    def publish(self) -> None:
        """Set the pending gauges from the database."""
        try:
            with self.sessions() as session:
                pending, oldest = session.connection().execute(_PENDING_NOW).one()
        except DBAPIError as exc:
            log.warning("pending sends not read", error=type(exc).__name__)
            return
        self._pending, self._oldest = int(pending or 0), as_utc(oldest)
        self._published_at = time.monotonic()
        metrics.OUTBOUND_PENDING.set(self._pending)

    def _oldest_age(self) -> float:
        oldest = self._oldest
        return max((self.clock() - oldest).total_seconds(), 0.0) if oldest is not None else 0.0


def _age(age: timedelta) -> str:
    seconds = int(age.total_seconds())
    for unit, size in (("h", 3600), ("min", 60)):
        if seconds >= size and seconds % size == 0:
            return f"{seconds // size} {unit}"
    return f"{seconds} s"
