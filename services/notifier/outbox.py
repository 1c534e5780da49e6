"""The outbox: one row per (event, recipient, kind), written before the SMTP send.

pending → sent | failed; suppressed rows record every send the governor refused, with the reason.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy import bindparam, insert, select, update
from sqlalchemy.engine import Connection
from sqlalchemy.orm import Session

from services.notifier.compose import Composed
from shared.db.models import ItemMail, OutboundMail, utcnow


Key = tuple[str, str, str]  # (event id, recipient, kind)

# Statements built once: Core on a connection, the parameters given at execution. The ORM's unit
# of work, and building a statement per row, cost more than the statements themselves.
_OUTBOX = OutboundMail.__table__
_ADD = insert(_OUTBOX).returning(_OUTBOX.c.id)
_COUNT_ATTEMPT = update(_OUTBOX).where(_OUTBOX.c.id == bindparam("row_id")).values(attempts=_OUTBOX.c.attempts + 1)
_FINISH = update(_OUTBOX).where(_OUTBOX.c.id == bindparam("row_id"))
_HISTORY = insert(ItemMail.__table__)


@dataclass(frozen=True)
class Recorded:
    id: int
    status: str
    message_id: str


def recorded(session: Session, event_ids: Iterable[str]) -> dict[Key, Recorded]:
    """The rows these events already have, in one query."""
    t = _OUTBOX
    rows = session.connection().execute(select(t.c.id, t.c.event_id, t.c.recipient, t.c.kind, t.c.status,
                                               t.c.message_id).where(t.c.event_id.in_(set(event_ids))))
    return {(r.event_id, r.recipient, r.kind): Recorded(r.id, r.status, r.message_id) for r in rows}


def stable_unique(event_id: str, recipient: str, kind: str) -> str:
    """The unique part of the Message-ID: the same for every attempt at the same send."""
    return hashlib.sha256(f"{event_id}\x1f{recipient}\x1f{kind}".encode()).hexdigest()[:32]


def add(session: Session, *, event_id: str, recipient: str, kind: str, item_id: int, account: str, status: str,
        message_id: str = "", reason: str = "", attempts: int = 0) -> Recorded:
    row_id = session.connection().execute(_ADD, {
        "event_id": event_id, "recipient": recipient, "kind": kind, "item_id": item_id, "account": account,
        "message_id": message_id, "status": status, "reason": reason, "attempts": attempts,
        "created_at": utcnow()}).scalar_one()
    return Recorded(row_id, status, message_id)


def count_attempt(session: Session, row_id: int) -> None:
    session.connection().execute(_COUNT_ATTEMPT, {"row_id": row_id})


def finish(conn: Connection, row_id: int, status: str, reason: str, message: Composed, *, message_id: str,
           item_id: int, item_type: str, account: str, kind: str, recipient: str) -> None:
    """Mark the row sent or failed (one UPDATE: the caller knows the row); a sent mail joins the
    item's history."""
    conn.execute(_FINISH, {"row_id": row_id, "status": status, "reason": reason, "subject": message.subject,
                           "sent_at": utcnow() if status == "sent" else None})
    if status != "sent":
        return
    conn.execute(_HISTORY, {
        "item_id": item_id, "item_type": item_type, "direction": "out", "account": account, "message_id": message_id,
        "subject": message.subject, "from_address": message.from_address, "text": message.text,
        "classification": kind, "matched_by": f"sent by the notifier to {recipient}"})
