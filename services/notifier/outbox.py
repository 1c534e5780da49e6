"""The outbox: one row per (event, recipient, kind), written before the SMTP send.

pending → sent | failed; suppressed rows record every send the governor refused, with the reason.
"""

from __future__ import annotations

import hashlib
from email.message import EmailMessage

from sqlalchemy import select
from sqlalchemy.orm import Session

from shared.db.models import ItemMail, OutboundMail, utcnow


def find(session: Session, event_id: str, recipient: str, kind: str) -> OutboundMail | None:
    return session.scalar(select(OutboundMail).where(
        OutboundMail.event_id == event_id, OutboundMail.recipient == recipient, OutboundMail.kind == kind))


def stable_unique(event_id: str, recipient: str, kind: str) -> str:
    """The unique part of the Message-ID: the same for every attempt at the same send."""
    return hashlib.sha256(f"{event_id}\x1f{recipient}\x1f{kind}".encode()).hexdigest()[:32]


def add(session: Session, *, event_id: str, recipient: str, kind: str, item_id: int, account: str, status: str,
        message_id: str = "", reason: str = "", attempts: int = 0) -> OutboundMail:
    row = OutboundMail(event_id=event_id, recipient=recipient, kind=kind, item_id=item_id, account=account,
                       message_id=message_id, status=status, reason=reason, attempts=attempts, created_at=utcnow())
    session.add(row)
    session.flush()
    return row


def finish(session: Session, row_id: int, status: str, reason: str, message: EmailMessage, item_type: str) -> None:
    row = session.get_one(OutboundMail, row_id)
    row.status, row.reason, row.subject = status, reason, str(message["Subject"])
    if status != "sent":
        return
    row.sent_at = utcnow()
    body = message.get_body(preferencelist=("plain",))
    session.add(ItemMail(item_id=row.item_id, item_type=item_type, direction="out", account=row.account,
                         message_id=row.message_id, subject=row.subject, from_address=str(message["From"]),
                         text=body.get_content() if body is not None else "", classification=row.kind,
                         matched_by=f"sent by the notifier to {row.recipient}"))
