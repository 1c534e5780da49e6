"""Sends waiting out an SMTP outage. An event whose mail the server could not take (``WaitOut``) keeps
its pending outbox rows, now with the last error and when the next attempt is due (the runner puts
the event on the outage rungs: a backoff with a cap). Once its first attempt (the rows' creation) is
``max_age`` old, its pending rows are recorded on the item as failed, counted in
``postroom_outbound_given_up_total``, and the event is settled: no mail goes out later than that."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select, update
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


@dataclass
class Waits:
    sessions: sessionmaker[Session]
    max_age: timedelta
    delay: Callable[[int], float]  # seconds until the next try of an event at this attempt (its outage rung)
    clock: Callable[[], datetime] = utcnow

    def settle(self, envelopes: Sequence[Envelope[Any]], results: list[Result]) -> None:
        """Note each waiting event's last error and next attempt; settle those waiting too long."""
        waiting = {e.message_id: i for i, (e, r) in enumerate(zip(envelopes, results, strict=True))
                   if isinstance(r, WaitOut)}
        if not waiting:
            return
        try:
            self._settle(envelopes, results, waiting)
        except DBAPIError as exc:  # noted at the next try; the event waits on its rung meanwhile
            log.warning("waiting sends not noted", error=type(exc).__name__)

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


def _age(age: timedelta) -> str:
    seconds = int(age.total_seconds())
    for unit, size in (("h", 3600), ("min", 60)):
        if seconds >= size and seconds % size == 0:
            return f"{seconds // size} {unit}"
    return f"{seconds} s"
