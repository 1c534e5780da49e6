"""Create or append: a mail joins an existing item only when it is recognised as a reply to it.

The signals, strongest first, each limited to items of the account's own item type:
1. our signed token (HMAC over the item, shared/tokens.py) in a Message-ID the mail answers, or in
   its subject: only someone who saw our mail has it;
2. In-Reply-To/References naming a mail already on the item;
3. the plain item number in the subject (``[#123]``), which anyone can guess: only when the sender
   is verified and on the item's notification list, its contact, its customer's, or one of our users.
A number from anyone else makes a new item, linked to the named one as a possible follow-up.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Select, bindparam, select
from sqlalchemy.orm import Session

from services.itemwriter.senders import Sender, customer_of
from shared.contracts import MailParsed
from shared.db.models import Contact, Item, ItemMail, ItemNotify


@dataclass
class Match:
    item: Item | None  # None: create a new item
    signal: str  # signed-token | thread-header | subject-number | new
    reason: str
    follow_up_of: list[Item] = field(default_factory=list)
    considered: list[str] = field(default_factory=list)
    locked: bool = False  # ``item`` was read under its row lock (``repository.lock_item``)


def _locked(query: Select[Any]) -> Select[Any]:
    # A signed token or a thread header always appends: the item is read once, under the lock
    # the append needs, fresh whatever the session held.
    return query.with_for_update(of=Item).execution_options(populate_existing=True)


# Built once: building and keying a statement costs about as much as running it.
_BY_NUMBER = select(Item).where(Item.type == bindparam("item_type"), Item.number == bindparam("number"))
_BY_NUMBER_LOCKED = _locked(_BY_NUMBER)
_BY_THREAD = _locked(select(Item, ItemMail.message_id).join(ItemMail, ItemMail.item_id == Item.id)
                     .where(ItemMail.item_type == bindparam("item_type"),
                            ItemMail.message_id.in_(bindparam("ids", expanding=True))).limit(1))
_ON_NOTIFY_LIST = select(ItemNotify.id).where(ItemNotify.item_id == bindparam("item_id"),
                                              ItemNotify.address == bindparam("address"))
_IS_CONTACT = select(Contact.id).where(Contact.id == bindparam("contact_id"), Contact.email == bindparam("address"))


def by_number(session: Session, item_type: str, number: int, *, lock: bool = False) -> Item | None:
    """``lock``: read it under its row lock, as ``repository.lock_item`` does."""
    return session.scalar(_BY_NUMBER_LOCKED if lock else _BY_NUMBER, {"item_type": item_type, "number": number})


def thread_ids(mail: MailParsed) -> list[str]:
    return [*([mail.in_reply_to] if mail.in_reply_to else []), *reversed(mail.references)]


def find_item(session: Session, item_type: str, mail: MailParsed, sender: Sender) -> Match:
    considered: list[str] = []
    for ref in mail.item_refs:
        if not ref.signed:
            continue
        if ref.item_type != item_type:
            considered.append(f"signed token for {ref.item_type} #{ref.number}: not this account's type")
            continue
        item = by_number(session, item_type, ref.number, lock=True)
        if item is not None:
            return Match(item, "signed-token", f"our signed token for #{ref.number} in {ref.signal}",
                         considered=considered, locked=True)
        considered.append(f"signed token for #{ref.number}: no such item")
    ids = thread_ids(mail)
    if ids:
        row = session.execute(_BY_THREAD, {"item_type": item_type, "ids": ids}).first()
        if row is not None:
            return Match(row.Item, "thread-header",
                         f"In-Reply-To/References name {row.message_id}, already on the item",
                         considered=considered, locked=True)
        considered.append("In-Reply-To/References name no mail on an item")
    strangers: list[Item] = []
    for ref in mail.item_refs:
        if ref.signal != "subject-token" or ref.signed:
            continue
        item = by_number(session, item_type, ref.number)
        if item is None:
            considered.append(f"subject number #{ref.number}: no such {item_type}")
            continue
        vouched = _number_vouched(session, item, sender)
        if vouched is not None:
            return Match(item, "subject-number", f"subject number #{ref.number}; {vouched}", considered=considered)
        considered.append(f"subject number #{ref.number} from {sender.address or 'nobody'}, who is not on the "
                          "item's notification list nor its customer's: a possible follow-up, not appended")
        strangers.append(item)
    if strangers:
        numbers = ", ".join(f"#{i.number}" for i in strangers)
        return Match(None, "new", f"new item, linked as a possible follow-up of {numbers}", strangers, considered)
    return Match(None, "new", "no reply signal: new item", considered=considered)


def _number_vouched(session: Session, item: Item, sender: Sender) -> str | None:
    """Why this sender may name the item by number alone, or None."""
    address = sender.address
    if address is None:
        return None
    if not sender.verified:
        return None  # a forged From must not reach a customer's items by a guessable number
    if session.scalar(_ON_NOTIFY_LIST, {"item_id": item.id, "address": address}):
        return f"{address} is on the item's notification list"
    if item.contact_id is not None and session.scalar(_IS_CONTACT, {"contact_id": item.contact_id, "address": address}):
        return f"{address} is the item's contact"
    if sender.user is not None and sender.forwarded_by is None:
        return f"{address} is our user"
    customer = customer_of(session, address)
    if customer is not None and customer.id == item.customer_id:
        return f"{address} belongs to the item's customer {customer.name}"
    return None
