"""Delivery failure reports about our own mail: recorded on the item the mail belonged to, never
appended as a customer's reply, and the address that failed is flagged on its contact."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from services.itemwriter.matching import by_number, thread_ids
from services.itemwriter.senders import ensure_contact
from shared.contracts import MailParsed
from shared.db.models import Item, ItemMail, OutboundMail, utcnow


@dataclass(frozen=True)
class Bounce:
    item: Item
    of_message_id: str | None
    failing: list[str]  # addresses our mail went to
    reason: str


def find_bounce(session: Session, item_type: str, mail: MailParsed) -> Bounce | None:
    """The item a DSN reports on, found by the Message-ID it names (``bounce_of``, else the thread
    headers), else by our signed token; None when the mail is no DSN or names none of our mail."""
    if mail.classification.kind != "bounce":
        return None
    ids = [*([mail.bounce_of] if mail.bounce_of else []), *thread_ids(mail)]
    if ids:
        sent = session.execute(
            select(OutboundMail.message_id, OutboundMail.recipient, OutboundMail.item_id)
            .join(Item, Item.id == OutboundMail.item_id)
            .where(Item.type == item_type, OutboundMail.message_id.in_(ids))).all()
        if sent:
            return Bounce(session.get_one(Item, sent[0].item_id), sent[0].message_id,
                          sorted({r.recipient.lower() for r in sent}),
                          f"delivery failure of our mail {sent[0].message_id}")
        row = session.execute(select(ItemMail.item_id, ItemMail.message_id).where(
            ItemMail.item_type == item_type, ItemMail.direction == "out", ItemMail.message_id.in_(ids))).first()
        if row is not None:
            return Bounce(session.get_one(Item, row.item_id), row.message_id, [],
                          f"delivery failure of our mail {row.message_id} (recipient unknown)")
    for ref in mail.item_refs:
        if ref.signed and ref.item_type == item_type:
            item = by_number(session, item_type, ref.number)
            if item is not None:
                return Bounce(item, None, [], f"delivery failure naming our signed token for #{ref.number}")
    return None


def flag_failing(session: Session, addresses: list[str], reason: str) -> None:
    for address in addresses:
        contact = ensure_contact(session, address, "", None)
        if not contact.failing:
            contact.failing, contact.failing_reason, contact.failing_since = True, reason[:500], utcnow()
