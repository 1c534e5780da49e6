"""Item persistence the handler needs: numbers, duplicates, recorded outputs, notification lists,
links, row locks."""

from __future__ import annotations

from typing import Any

from sqlalchemy import or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from shared.contracts import Envelope, MailParsed, decode
from shared.db.models import Contact, Item, ItemLink, ItemMail, ItemNotify, ItemSequence


def dedupe_key(mail: MailParsed) -> str:
    """The same mail twice, whatever path it took: its Message-ID, or its content when it has none."""
    return f"mid:{mail.message_id}" if mail.message_id else f"sha256:{mail.raw.sha256}"


def find_duplicate(session: Session, item_type: str, mail: MailParsed) -> ItemMail | None:
    return session.scalar(
        select(ItemMail).where(
            ItemMail.direction == "in",
            or_(
                (ItemMail.item_type == item_type) & (ItemMail.dedupe_key == dedupe_key(mail)),
                (ItemMail.account == mail.account) & (ItemMail.source_id == mail.source_id),
            ),
        ).limit(1)
    )


def next_number(session: Session, item_type: str) -> int:
    """Take the next number of ``item_type``. The UPDATE holds the counter's row lock until commit,
    so concurrent writers queue here instead of taking the same number."""
    updated = session.execute(
        update(ItemSequence).where(ItemSequence.item_type == item_type)
        .values(last_number=ItemSequence.last_number + 1)
    ).rowcount
    if not updated:
        # First item of this type. Two writers racing here: one gets an IntegrityError and retries.
        with session.begin_nested():
            session.add(ItemSequence(item_type=item_type, last_number=1))
        return 1
    return session.scalar(select(ItemSequence.last_number).where(ItemSequence.item_type == item_type)) or 1


def record_outputs(row: ItemMail, outputs: list[Envelope[Any]]) -> None:
    row.outputs = {"envelopes": [e.model_dump(mode="json", by_alias=True) for e in outputs]}


def recorded_outputs(row: ItemMail) -> list[Envelope[Any]]:
    import json

    return [decode(json.dumps(e).encode()) for e in (row.outputs or {}).get("envelopes", [])]


def notify_list(session: Session, item_id: int) -> list[tuple[str, str]]:
    rows = session.execute(select(ItemNotify.address, ItemNotify.name)
                           .where(ItemNotify.item_id == item_id).order_by(ItemNotify.id))
    return [(r.address, r.name) for r in rows]


def add_to_notify(session: Session, item_id: int, address: str, name: str, because: str) -> bool:
    """Put ``address`` on the item's notification list; False when it already was."""
    address = address.lower()
    if session.scalar(select(ItemNotify.id).where(ItemNotify.item_id == item_id, ItemNotify.address == address)):
        return False
    try:
        with session.begin_nested():
            session.add(ItemNotify(item_id=item_id, address=address, name=name[:200], added_because=because[:200]))
    except IntegrityError:  # a concurrent writer added it
        return False
    return True


def failing_addresses(session: Session, addresses: list[str]) -> set[str]:
    if not addresses:
        return set()
    return set(session.scalars(select(Contact.email).where(Contact.email.in_(addresses), Contact.failing.is_(True))))


def link_follow_up(session: Session, new_item: Item, other: Item, reason: str) -> None:
    session.add(ItemLink(item_id=new_item.id, other_item_id=other.id, kind="possible-follow-up", reason=reason))


def lock_item(session: Session, item_id: int) -> Item:
    """Re-read the item under a row lock: concurrent appends to one item take turns (PostgreSQL;
    SQLite's BEGIN IMMEDIATE already serializes writers)."""
    item = session.scalar(select(Item).where(Item.id == item_id).with_for_update()
                          .execution_options(populate_existing=True))
    assert item is not None
    return item
