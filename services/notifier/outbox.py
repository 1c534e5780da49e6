"""The outbox: one row per (event, recipient, kind), written before the SMTP send.

pending → sent | failed; suppressed rows record every send the governor refused, with the reason.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy import insert, select, update
from sqlalchemy.engine import Connection
from sqlalchemy.orm import Session

from services.notifier.compose import Composed
from shared.db.models import ItemMail, OutboundMail, utcnow


Key = tuple[str, str, str]  # (event id, recipient, kind)


@dataclass(frozen=True)
class Recorded:
    id: int
    status: str
    message_id: str


def recorded(session: Session, event_ids: Iterable[str]) -> dict[Key, Recorded]:
    """The rows these events already have, in one query."""
    t = OutboundMail.__table__
    rows = session.connection().execute(select(t.c.id, t.c.event_id, t.c.recipient, t.c.kind, t.c.status,
                                               t.c.message_id).where(t.c.event_id.in_(set(event_ids))))
    return {(r.event_id, r.recipient, r.kind): Recorded(r.id, r.status, r.message_id) for r in rows}


def stable_unique(event_id: str, recipient: str, kind: str) -> str:
    """The unique part of the Message-ID: the same for every attempt at the same send."""
    return hashlib.sha256(f"{event_id}\x1f{recipient}\x1f{kind}".encode()).hexdigest()[:32]


def add(session: Session, *, event_id: str, recipient: str, kind: str, item_id: int, account: str, status: str,
        message_id: str = "", reason: str = "", attempts: int = 0) -> Recorded:
    # Core on the session's connection: the ORM's unit of work costs more than the statement.
    t = OutboundMail.__table__
    row_id = session.connection().execute(insert(t).values(
        event_id=event_id, recipient=recipient, kind=kind, item_id=item_id, account=account, message_id=message_id,
        status=status, reason=reason, attempts=attempts, created_at=utcnow()).returning(t.c.id)).scalar_one()
    return Recorded(row_id, status, message_id)


def count_attempt(session: Session, row_id: int) -> None:
    t = OutboundMail.__table__
    session.connection().execute(update(t).where(t.c.id == row_id).values(attempts=t.c.attempts + 1))


def finish(conn: Connection, row_id: int, status: str, reason: str, message: Composed, *, message_id: str,
           item_id: int, item_type: str, account: str, kind: str, recipient: str) -> None:
    """Mark the row sent or failed (one UPDATE: the caller knows the row); a sent mail joins the
    item's history."""
    subject = message.subject
    sent_at = utcnow() if status == "sent" else None
    conn.execute(update(OutboundMail).where(OutboundMail.id == row_id)
                    .values(status=status, reason=reason, subject=subject, sent_at=sent_at))
    if status != "sent":
        return
    # A plain INSERT: nothing reads the row back, and the ORM's unit of work costs more than the statement.
    conn.execute(insert(ItemMail).values(
        item_id=item_id, item_type=item_type, direction="out", account=account, message_id=message_id,
        subject=subject, from_address=message.from_address, text=message.text,
        classification=kind, matched_by=f"sent by the notifier to {recipient}"))
