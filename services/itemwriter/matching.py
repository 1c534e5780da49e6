"""Which existing item a mail belongs to, and by which signal (recorded on every decision)."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from shared.contracts import MailParsed
from shared.db.models import Item, ItemMail


@dataclass(frozen=True)
class Match:
    item: Item
    signal: str


def find_item(session: Session, item_type: str, mail: MailParsed) -> Match | None:
    """The strongest signal wins: our signed Message-ID token, then the thread headers pointing at a
    mail already on an item, then the item token in the subject. Only items of ``item_type``."""
    for ref in mail.item_refs:
        if ref.signal != "subject-token" and ref.signed and ref.item_type == item_type:
            item = _by_number(session, item_type, ref.number)
            if item is not None:
                return Match(item, f"signed token in {ref.signal}")
    thread_ids = [mid for mid in ([mail.in_reply_to] if mail.in_reply_to else []) + list(reversed(mail.references))]
    if thread_ids:
        row = session.execute(
            select(ItemMail.item_id, ItemMail.message_id)
            .where(ItemMail.item_type == item_type, ItemMail.message_id.in_(thread_ids))
        ).first()
        if row is not None:
            return Match(session.get_one(Item, row.item_id), f"thread header names {row.message_id}")
    for ref in mail.item_refs:
        if ref.signal == "subject-token":
            item = _by_number(session, item_type, ref.number)
            if item is not None:
                return Match(item, f"subject token #{ref.number}")
    return None


def _by_number(session: Session, item_type: str, number: int) -> Item | None:
    return session.scalar(select(Item).where(Item.type == item_type, Item.number == number))
