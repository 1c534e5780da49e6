"""The itemwriter's handler: create or append in one transaction, outputs recorded with the effect."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy.exc import IntegrityError, OperationalError
from sqlalchemy.orm import Session, sessionmaker

from services.itemwriter.writer import write_item
from shared.contracts import Envelope
from shared.db.engine import transaction
from shared.errors import RetryLater
from shared.logging import get_logger

log = get_logger("postroom.itemwriter")


def make_handler(sessions: sessionmaker[Session]):
    def handle_mail_parsed(envelope: Envelope[Any]) -> Sequence[Envelope[Any]]:
        try:
            with transaction(sessions) as session:
                outcome = write_item(session, envelope)
        except (IntegrityError, OperationalError) as exc:
            # A concurrent writer stored the same mail or took the same number, or the database is
            # briefly away: the retry finds the duplicate or succeeds.
            raise RetryLater(f"database: {type(exc).__name__}: {str(exc.orig)[:200]}") from None
        log.info("item written" if outcome.change != "duplicate" else "duplicate mail: re-publishing its outputs",
                 change=outcome.change, item_type=outcome.item.type, item_number=outcome.item.number,
                 matched_by=outcome.matched_by)
        return outcome.outputs

    return handle_mail_parsed
