"""What happened to one mail on an item: fetched (account, source id, when), parsed (its
classification), placed (created or appended, the signal and every signal weighed), and the mail
sent because of it (auto-reply and notifications: sent, suppressed or failed, and why)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from services.app.errors import NotFound
from shared.db.models import Item, ItemMail, OutboundMail


def mail_trace(session: Session, mail_id: int) -> dict[str, Any]:
    mail = session.get(ItemMail, mail_id)
    if mail is None:
        raise NotFound(f"no mail {mail_id}")
    item = session.get_one(Item, mail.item_id)
    events = [e.get("message_id") for e in (mail.outputs or {}).get("envelopes", []) if e.get("message_id")]
    sent = list(session.scalars(select(OutboundMail).where(OutboundMail.event_id.in_(events))
                                .order_by(OutboundMail.id))) if events else []
    decision = mail.decision or {}
    return {
        "mail": {"id": mail.id, "direction": mail.direction, "message_id": mail.message_id, "subject": mail.subject,
                 "from": mail.from_address},
        "fetched": {"account": mail.account, "source_id": mail.source_id, "at": mail.created_at.isoformat(),
                    "raw": mail.raw_key},
        "parsed": {"classification": mail.classification,
                   "date": mail.mail_date.isoformat() if mail.mail_date else None},
        "placed": {"item": {"type": item.type, "number": item.number}, "matched_by": mail.matched_by,
                   "considered": decision.get("considered", []),
                   **{k: v for k, v in decision.items() if k != "considered"}},
        "sent": [{"kind": o.kind, "recipient": o.recipient, "status": o.status, "reason": o.reason,
                  "message_id": o.message_id or None, "at": (o.sent_at or o.created_at).isoformat()} for o in sent],
    }
