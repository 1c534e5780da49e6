"""The itemwriter's handler: create or append, outputs recorded with the effect.

A batch of mails shares one transaction, each mail in its own SAVEPOINT: a mail that fails rolls back
only its own work and is retried or dead-lettered alone, and the batch pays one commit."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy.exc import IntegrityError, OperationalError
from sqlalchemy.orm import Session, sessionmaker

from services.itemwriter.lookups import Lookups
from services.itemwriter.writer import write_item
from shared.contracts import Envelope
from shared.db.engine import transaction
from shared.errors import RetryLater
from shared.logging import get_logger
from shared.runner import Result, envelope_context

log = get_logger("postroom.itemwriter")


class ItemWriter:
    def __init__(self, sessions: sessionmaker[Session]) -> None:
        self.sessions = sessions

    def __call__(self, envelope: Envelope[Any]) -> Sequence[Envelope[Any]]:
        try:
            with transaction(self.sessions) as session:
                outputs = _write(session, envelope, Lookups(session))
        except (IntegrityError, OperationalError) as exc:
            raise _retry(exc) from None
        return outputs

    def handle_batch(self, envelopes: Sequence[Envelope[Any]]) -> list[Result]:
        results: list[Result] = []
        with transaction(self.sessions) as session:
            lookups = Lookups(session)
            for envelope in envelopes:
                with envelope_context(envelope):
                    result: Result
                    try:
                        with session.begin_nested():
                            result = _write(session, envelope, lookups)
                    except (IntegrityError, OperationalError) as exc:
                        result = _retry(exc)
                    except Exception as exc:  # Reject or a bug: this mail's own outcome
                        result = exc
                    results.append(result)
        return results


def make_handler(sessions: sessionmaker[Session]) -> ItemWriter:
    return ItemWriter(sessions)


def _write(session: Session, envelope: Envelope[Any], lookups: Lookups) -> Sequence[Envelope[Any]]:
    outcome = write_item(session, envelope, lookups)
    log.info("item written" if outcome.change != "duplicate" else "duplicate mail: re-publishing its outputs",
             change=outcome.change, item_type=outcome.item.type, item_number=outcome.item.number,
             matched_by=outcome.matched_by)
    return outcome.outputs


def _retry(exc: IntegrityError | OperationalError) -> RetryLater:
    # A concurrent writer stored the same mail or took the same number, or the database is briefly
    # away: the retry finds the duplicate or succeeds.
    return RetryLater(f"database: {type(exc).__name__}: {str(exc.orig)[:200]}")
