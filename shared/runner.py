"""The one consumer runner: turns a handler's outcome into broker actions.

It takes the messages already waiting, up to the batch size, and settles each on its own:
- success: publish the outputs (confirmed, mandatory), then ack; the outputs of every success of a
  batch are published together and their confirms awaited once;
- ``RetryLater`` or an unexpected exception: republish to the retry ladder with ``attempt + 1``,
  then ack; after ``max_retries`` the message goes to the dead-letter queue instead; ``WaitOut`` (an
  outage outside) goes to the outage rungs, with no count bound (its handler bounds it by age);
- ``Reject`` or an undecodable body: straight to the dead-letter queue, stage/exception/reason in
  headers.

A failure is never acked without being kept somewhere, and never requeued in a loop. A publish that
fails leaves the delivery unsettled: the broker redelivers it (bounded by ``x-delivery-limit``). One
message's failure never retries or fails its batch-mates.
"""

from __future__ import annotations

import time
import traceback
from collections.abc import Callable, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Protocol

import structlog

from shared.broker.port import (H_ATTEMPTS, H_DEAD_AT, H_EXCEPTION, H_QUEUE, H_REASON, H_STAGE, Broker,
                                Delivery, Outgoing, PublishFailed)
from shared.contracts.envelope import Envelope, UndecodableMessage, decode
from shared.errors import Reject, RetryLater, WaitOut
from shared.logging import get_logger
from shared import metrics

Handler = Callable[[Envelope[Any]], Sequence[Envelope[Any]]]
Result = Sequence[Envelope[Any]] | Exception  # the outputs, or what stands for the failure


class BatchHandler(Protocol):
    """A handler that can do several messages in one unit of work (one transaction, one connection).

    ``handle_batch`` returns, per envelope and in order, its outputs or the exception that stands for
    its failure: one message's failure must not undo its batch-mates' work. Raising fails the whole
    batch: the runner then hands each message to it alone.
    """

    def __call__(self, envelope: Envelope[Any]) -> Sequence[Envelope[Any]]: ...

    def handle_batch(self, envelopes: Sequence[Envelope[Any]]) -> list[Result]: ...


log = get_logger("postroom.runner")


def to_outgoing(envelope: Envelope[Any]) -> Outgoing:
    return Outgoing(routing_key=envelope.type, body=envelope.to_json(), message_id=envelope.message_id,
                    correlation_id=envelope.correlation_id)


def envelope_fields(envelope: Envelope[Any]) -> dict[str, Any]:
    """What every log line about a message carries."""
    return {"message_id": envelope.message_id, "correlation_id": envelope.correlation_id, "type": envelope.type,
            "attempt": envelope.attempt}


def envelope_context(envelope: Envelope[Any]) -> AbstractContextManager[None]:
    """Log lines inside carry the message's ids (batch handlers wrap each message's work in it)."""
    return _BoundIds(envelope_fields(envelope))


class _BoundIds(AbstractContextManager[None]):
    """Binds the ids; on leaving, each is restored to what it was before (structlog's
    ``bound_contextvars`` does the same by reading the whole context first: several times the
    cost, once per message)."""

    def __init__(self, fields: dict[str, Any]) -> None:
        self._fields = fields

    def __enter__(self) -> None:
        self._tokens = structlog.contextvars.bind_contextvars(**self._fields)

    def __exit__(self, *_: object) -> None:
        structlog.contextvars.reset_contextvars(**self._tokens)


@dataclass
class _Done:
    outcome: str
    envelope: Envelope[Any] | None
    fields: dict[str, Any]


class Runner:
    def __init__(self, stage: str, broker: Broker, handler: Handler | BatchHandler, *, max_retries: int,
                 retry_step: Callable[[int], int], outage_step: Callable[[int], int] | None = None) -> None:
        self.stage, self.broker, self.handler = stage, broker, handler
        self.max_retries, self.retry_step = max_retries, retry_step
        self.outage_step = outage_step
        self.last_progress = time.monotonic()
        self._duration = metrics.DURATION.labels(stage)
        self._handled_by_outcome: dict[str, Any] = {}

    def __call__(self, deliveries: Sequence[Delivery]) -> None:
        """Settle a batch of deliveries: failures first, each on its own; then the outputs of every
        success are published together, and each success is acked once its outputs are confirmed."""
        started = time.perf_counter()
        structlog.contextvars.clear_contextvars()
        structlog.contextvars.bind_contextvars(stage=self.stage)
        done: list[_Done] = []
        decoded: list[tuple[Delivery, Envelope[Any]]] = []
        for delivery in deliveries:
            try:
                decoded.append((delivery, decode(delivery.body)))
            except UndecodableMessage as exc:
                self._dead_letter(delivery, "undecodable", exc, attempts=0, kind="undecodable")
                done.append(_Done("dead-lettered", None, {"reason": "undecodable"}))
        results = self._handle([envelope for _, envelope in decoded])
        succeeded: list[tuple[Delivery, Envelope[Any], Sequence[Envelope[Any]]]] = []
        for (delivery, envelope), result in zip(decoded, results, strict=True):
            if not isinstance(result, Exception):
                succeeded.append((delivery, envelope, result))
                continue
            with envelope_context(envelope):
                if isinstance(result, Reject):
                    self._dead_letter(delivery, "rejected", result, attempts=envelope.attempt + 1, kind="rejected")
                    done.append(_Done("dead-lettered", envelope, {"reason": str(result)}))
                else:  # RetryLater and anything unexpected: transient, bounded
                    done.append(self._retry_or_dead_letter(delivery, envelope, result))
        failures = self.broker.publish_groups([[to_outgoing(e) for e in outputs] for _, _, outputs in succeeded])
        unpublished: PublishFailed | None = None
        confirmed: list[tuple[Delivery, Envelope[Any], Sequence[Envelope[Any]]]] = []
        for (delivery, envelope, outputs), failed in zip(succeeded, failures, strict=True):
            if failed is not None:  # left unsettled: the broker redelivers it
                unpublished = unpublished or failed
                with envelope_context(envelope):
                    log.warning("outputs not published; the message stays unsettled", error=str(failed))
            else:
                confirmed.append((delivery, envelope, outputs))
        self.broker.ack([delivery for delivery, _, _ in confirmed])
        done += [_Done("ok", envelope, {"outputs": [e.type for e in outputs]}) for _, envelope, outputs in confirmed]
        self._log(done, started, len(deliveries))
        if unpublished is not None:
            raise unpublished

    def _handle(self, envelopes: Sequence[Envelope[Any]]) -> list[Result]:
        handle_batch = getattr(self.handler, "handle_batch", None)
        if handle_batch is None or len(envelopes) < 2:
            return [self._handle_one(envelope) for envelope in envelopes]
        try:
            results: list[Result] = handle_batch(envelopes)
        except Exception as exc:  # the batch's unit of work failed as a whole: each message on its own
            log.warning("batch failed; handling its messages one by one", size=len(envelopes), exc_info=exc)
            return [self._handle_one(envelope) for envelope in envelopes]
        assert len(results) == len(envelopes), "a batch handler returns one result per envelope"
        return results

    def _handle_one(self, envelope: Envelope[Any]) -> Result:
        with envelope_context(envelope):
            try:
                return self.handler(envelope)
            except Exception as exc:
                return exc

    def _retry_or_dead_letter(self, delivery: Delivery, envelope: Envelope[Any], exc: Exception) -> _Done:
        if not isinstance(exc, RetryLater):
            log.warning("handler raised", exc_info=exc)
        outage = self.outage_step if isinstance(exc, WaitOut) else None
        if outage is None and envelope.attempt >= self.max_retries:
            self._dead_letter(delivery, "retries exhausted", exc, attempts=envelope.attempt + 1,
                              kind="retries_exhausted")
            return _Done("dead-lettered", envelope, {"reason": "retries exhausted"})
        step = outage(envelope.attempt) if outage is not None else self.retry_step(envelope.attempt)
        delivery.retry(envelope.next_attempt().to_json(), step,
                       {**delivery.headers, H_ATTEMPTS: envelope.attempt + 1, H_REASON: _describe(exc)})
        metrics.RETRIES.labels(self.stage).inc()
        return _Done("retry", envelope, {"step": step, "reason": _describe(exc)})

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

    def _log(self, done: list[_Done], started: float, size: int) -> None:
        """One line per message; a batch's time is shared evenly among its messages."""
        share = (time.perf_counter() - started) / max(size, 1)
        self.last_progress = time.monotonic()
        batch = {"batch": size} if size > 1 else {}
        for d in done:
            self._handled(d.outcome).inc()
            self._duration.observe(share)
            ids = envelope_fields(d.envelope) if d.envelope is not None else {}
            log.info("handled", outcome=d.outcome, duration_ms=round(share * 1000, 1), **batch, **d.fields, **ids)
        structlog.contextvars.clear_contextvars()

    def _handled(self, outcome: str) -> Any:
        """The stage's counter of ``outcome`` (a label lookup takes a lock and hashes: once per outcome)."""
        counter = self._handled_by_outcome.get(outcome)
        if counter is None:
            counter = self._handled_by_outcome[outcome] = metrics.HANDLED.labels(self.stage, outcome)
        return counter


def _describe(exc: BaseException) -> str:
    text = str(exc) or type(exc).__name__
    return f"{type(exc).__name__}: {text}" if not isinstance(exc, (RetryLater, Reject)) else text
