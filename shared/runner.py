"""The one consumer runner: turns a handler's outcome into broker actions.

- success: publish the outputs (confirmed, mandatory), then ack;
- ``RetryLater`` or an unexpected exception: republish to the retry ladder with ``attempt + 1``,
  then ack; after ``max_retries`` the message goes to the dead-letter queue instead;
- ``Reject`` or an undecodable body: straight to the dead-letter queue, stage/exception/reason in
  headers.

A failure is never acked without being kept somewhere, and never requeued in a loop. A publish that
fails leaves the delivery unsettled: the broker redelivers it (bounded by ``x-delivery-limit``).
"""

from __future__ import annotations

import time
import traceback
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from typing import Any

import structlog

from shared.broker.port import (H_ATTEMPTS, H_DEAD_AT, H_EXCEPTION, H_QUEUE, H_REASON, H_STAGE, Broker,
                                Delivery, Outgoing)
from shared.contracts.envelope import Envelope, UndecodableMessage, decode
from shared.errors import Reject, RetryLater
from shared.logging import get_logger
from shared import metrics

Handler = Callable[[Envelope[Any]], Sequence[Envelope[Any]]]

log = get_logger("postroom.runner")


def to_outgoing(envelope: Envelope[Any]) -> Outgoing:
    return Outgoing(routing_key=envelope.type, body=envelope.to_json(), message_id=envelope.message_id,
                    correlation_id=envelope.correlation_id)


class Runner:
    def __init__(self, stage: str, broker: Broker, handler: Handler, *, max_retries: int,
                 retry_step: Callable[[int], int]) -> None:
        self.stage, self.broker, self.handler = stage, broker, handler
        self.max_retries, self.retry_step = max_retries, retry_step
        self.last_progress = time.monotonic()

    def __call__(self, delivery: Delivery) -> None:
        started = time.perf_counter()
        structlog.contextvars.clear_contextvars()
        try:
            envelope = decode(delivery.body)
        except UndecodableMessage as exc:
            self._dead_letter(delivery, "undecodable", exc, attempts=0, kind="undecodable")
            self._done("dead-lettered", started, reason="undecodable")
            return
        structlog.contextvars.bind_contextvars(
            message_id=envelope.message_id, correlation_id=envelope.correlation_id, type=envelope.type,
            stage=self.stage, attempt=envelope.attempt)
        try:
            outputs = self.handler(envelope)
        except Reject as exc:
            self._dead_letter(delivery, "rejected", exc, attempts=envelope.attempt + 1, kind="rejected")
            self._done("dead-lettered", started, reason=str(exc))
            return
        except Exception as exc:  # RetryLater and anything unexpected: transient, bounded
            self._retry_or_dead_letter(delivery, envelope, exc, started)
            return
        self.broker.publish([to_outgoing(e) for e in outputs])
        delivery.ack()
        self._done("ok", started, outputs=[e.type for e in outputs])

    def _retry_or_dead_letter(self, delivery: Delivery, envelope: Envelope[Any], exc: Exception,
                              started: float) -> None:
        if not isinstance(exc, RetryLater):
            log.warning("handler raised", exc_info=exc)
        if envelope.attempt >= self.max_retries:
            self._dead_letter(delivery, "retries exhausted", exc, attempts=envelope.attempt + 1,
                              kind="retries_exhausted")
            self._done("dead-lettered", started, reason="retries exhausted")
            return
        step = self.retry_step(envelope.attempt)
        delivery.retry(envelope.next_attempt().to_json(), step,
                       {**delivery.headers, H_ATTEMPTS: envelope.attempt + 1, H_REASON: _describe(exc)})
        metrics.RETRIES.labels(self.stage).inc()
        self._done("retry", started, step=step, reason=_describe(exc))

    def _dead_letter(self, delivery: Delivery, reason: str, exc: Exception, attempts: int, kind: str) -> None:
        delivery.dead_letter({
            H_STAGE: self.stage,
            H_REASON: f"{reason}: {_describe(exc)}"[:1000],
            H_EXCEPTION: "".join(traceback.format_exception_only(type(exc), exc)).strip()[:2000],
            H_ATTEMPTS: attempts,
            H_QUEUE: delivery.queue,
            H_DEAD_AT: datetime.now(UTC).isoformat(),
        })
        metrics.DEAD_LETTERS.labels(self.stage, kind).inc()

    def _done(self, outcome: str, started: float, **fields: Any) -> None:
        duration = time.perf_counter() - started
        self.last_progress = time.monotonic()
        metrics.HANDLED.labels(self.stage, outcome).inc()
        metrics.DURATION.labels(self.stage).observe(duration)
        log.info("handled", outcome=outcome, duration_ms=round(duration * 1000, 1), **fields)
        structlog.contextvars.clear_contextvars()


def _describe(exc: BaseException) -> str:
    text = str(exc) or type(exc).__name__
    return f"{type(exc).__name__}: {text}" if not isinstance(exc, (RetryLater, Reject)) else text
