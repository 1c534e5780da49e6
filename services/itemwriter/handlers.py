"""The itemwriter's handler: create or append, outputs recorded with the effect.

A batch of mails shares one transaction and pays one commit. A mail that fails must roll back only
its own work and be retried or dead-lettered alone; a SAVEPOINT per mail gives that, at two more
round trips per mail (and a subtransaction in PostgreSQL). Nearly every batch has no failing mail,
so a batch is first written without them: when a mail fails, that transaction is rolled back whole
and the batch is written again with a savepoint per mail, where each mail's failure is its own."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy.exc import IntegrityError, OperationalError
from sqlalchemy.orm import Session, sessionmaker

from services.itemwriter.lookups import Lookups
from services.itemwriter.writer import Outcome, account_of, write_item
from shared import metrics
from shared.contracts import Envelope
from shared.db.engine import transaction
from shared.errors import Reject, RetryLater
from shared.logging import get_logger
from shared.runner import Result, envelope_context

log = get_logger("postroom.itemwriter")


class _MailFailed(Exception):
    """A mail of a batch written without savepoints failed: the batch is written again with them."""


class ItemWriter:
    def __init__(self, sessions: sessionmaker[Session]) -> None:
        self.sessions = sessions

    def __call__(self, envelope: Envelope[Any]) -> Sequence[Envelope[Any]]:
        try:
            with transaction(self.sessions) as session:
                outcome = write_item(session, envelope, Lookups(session))
        except (IntegrityError, OperationalError) as exc:
            raise _retry(exc) from None
        _log(envelope, outcome)
        return outcome.outputs

    def handle_batch(self, envelopes: Sequence[Envelope[Any]]) -> list[Result]:
        try:
            outcomes = self._write_batch(envelopes, isolated=False)
        except _MailFailed:
            outcomes = self._write_batch(envelopes, isolated=True)
        # Logged once committed: a batch written again must not have said twice what it wrote.
        results: list[Result] = []
        for envelope, outcome in zip(envelopes, outcomes, strict=True):
            if isinstance(outcome, Exception):
                results.append(outcome)
            else:
                _log(envelope, outcome)
                results.append(outcome.outputs)
        return results

    def _write_batch(self, envelopes: Sequence[Envelope[Any]], *, isolated: bool) -> list[Outcome | Exception]:
        """Every mail in one transaction; ``isolated``: each in its own savepoint, its failure its
        outcome. Otherwise the first failure rolls back the whole transaction (``_MailFailed``)."""
        outcomes: list[Outcome | Exception] = []
        with transaction(self.sessions) as session:
            lookups = Lookups(session)
            lookups.prefetch([e.payload for e in envelopes])
            for envelope in envelopes:
                with envelope_context(envelope):
                    if not isolated:
                        try:
                            account_of(envelope.payload, lookups)
                        except Reject as exc:  # nothing written yet: nothing to roll back
                            outcomes.append(exc)
                            continue
                        try:
                            outcomes.append(write_item(session, envelope, lookups))
                        except Exception as exc:
                            raise _MailFailed from exc
                        continue
                    outcome: Outcome | Exception
                    try:
                        with session.begin_nested():  # its release flushes: it may fail too
                            outcome = write_item(session, envelope, lookups)
                    except (IntegrityError, OperationalError) as exc:
                        outcome = _retry(exc)
                    except Exception as exc:  # Reject or a bug: this mail's own outcome
                        outcome = exc
                    outcomes.append(outcome)
        return outcomes


def make_handler(sessions: sessionmaker[Session]) -> ItemWriter:
    return ItemWriter(sessions)


def _log(envelope: Envelope[Any], outcome: Outcome) -> None:
    with envelope_context(envelope):
        if outcome.item is None:
            log.info("mail held back by a rule", change=outcome.change, rule=outcome.matched_by, reason=outcome.reason)
            if not outcome.decision["held"]["again"]:
                metrics.MAILS_HELD.labels(envelope.payload.account, outcome.matched_by).inc()
            return
        log.info("item written" if outcome.change != "duplicate" else "duplicate mail: re-publishing its outputs",
                 change=outcome.change, item_type=outcome.item.type, item_number=outcome.item.number,
                 matched_by=outcome.matched_by)


def _retry(exc: IntegrityError | OperationalError) -> RetryLater:
    # A concurrent writer stored the same mail or took the same number, or the database is briefly
    # away: the retry finds the duplicate or succeeds.
    return RetryLater(f"database: {type(exc).__name__}: {str(exc.orig)[:200]}")
