"""Mail the notifier has not sent yet (``postroom outbox``, ``GET /api/v1/outbox``): its outbox rows
still pending, oldest first, each with its item, recipient, attempts, first attempt, next attempt and
last error. A send waiting out an SMTP outage is one of them until the server takes it or it is
older than the notifier's ``POSTROOM_MAX_SEND_AGE`` (then it is recorded on its item as failed). Read
straight from the ``outbound_mails`` table, which the notifier writes: the application layer does not
import the pipeline."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from services.app.actors import Actor
from services.app.errors import Invalid
from shared.db.models import Item, OutboundMail, as_utc

DEFAULT_LIMIT = 200
# What may be listed: the sends still to go (oldest first), or those recorded as failed, given up
# after POSTROOM_MAX_SEND_AGE or refused for good by the server (newest first).
STATUSES = ("pending", "failed")


def pending_sends(session: Session, actor: Actor, account: str | None = None,
                  limit: int = DEFAULT_LIMIT, status: str = "pending") -> dict[str, Any]:
    """``{"total": how many have ``status``, "sends": ``limit`` of them}``: the oldest pending ones, or
    the newest failed ones."""
    if status not in STATUSES:
        raise Invalid(f"unknown status {status!r}: the outbox lists {' or '.join(STATUSES)} sends", field="status")
    where = [OutboundMail.status == status]
    if account is not None:
        where.append(OutboundMail.account == account)
    total = session.scalar(select(func.count()).select_from(OutboundMail).where(*where)) or 0
    order = ((OutboundMail.created_at, OutboundMail.id) if status == "pending"
             else (OutboundMail.created_at.desc(), OutboundMail.id.desc()))
    rows = session.execute(
        select(OutboundMail, Item.type, Item.number).outerjoin(Item, Item.id == OutboundMail.item_id)
        .where(*where).order_by(*order).limit(max(limit, 0))).all()
    return {"total": total, "sends": [_view(row, item_type, number) for row, item_type, number in rows]}


def _view(row: OutboundMail, item_type: str | None, number: int | None) -> dict[str, Any]:
    return {"item": {"type": item_type, "number": number} if number is not None else None,
            "account": row.account, "kind": row.kind, "recipient": row.recipient, "attempts": row.attempts,
            "first_attempt": _iso(row.created_at), "next_attempt": _iso(row.next_attempt_at),
            "last_error": row.reason, "message_id": row.message_id}


def _iso(value: datetime | None) -> str | None:
    aware = as_utc(value)
    return aware.isoformat() if aware is not None else None
