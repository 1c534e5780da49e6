"""Create or append: the append rules, in one place (docs/append-rules.md has them as a table).

A mail joins an existing item (of the account's own item type) only when
1. it answers one of our mails through its token, and the token was issued to this very sender
   (shared/tokens.py binds each Message-ID to its one recipient); or
2. it threads (In-Reply-To/References, or a token of the first, unbound shape) to a mail of the item,
   and its sender was a sender or recipient of the mail it answers, or is on the item; or
3. it names the item by number in the subject (``[#123]``, guessable), and its sender is on the item.
"On the item": the item's notification list (watchers), its contact, its customer's, or one of our
users. Never when a trusted server said the sender is forged, when the display name is itself
another address (a spoof sign), or, with ``require_verified_sender_for_append``, when no trusted
server passed the sender. Anything else makes a new item, linked to the named one as a possible
follow-up, so a stranger holding a forwarded token or a quoted Message-ID reaches no one's item.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from sqlalchemy import Select, bindparam, select
from sqlalchemy.orm import Session

from services.itemwriter.senders import Sender, customer_of
from shared.contracts import MailParsed
from shared.db.models import Account, Contact, Item, ItemMail, ItemNotify, OutboundMail


@dataclass
class Match:
    item: Item | None  # None: create a new item
    signal: str  # signed-token | thread-header | subject-number | new
    reason: str
    follow_up_of: list[Item] = field(default_factory=list)
    considered: list[str] = field(default_factory=list)
    locked: bool = False  # ``item`` was read under its row lock (``repository.lock_item``)


def _locked(query: Select) -> Select:  # any columns
    # A signed token or a thread header always appends: the item is read once, under the lock
    # the append needs, fresh whatever the session held.
    return query.with_for_update(of=Item).execution_options(populate_existing=True)


# Built once: building and keying a statement costs about as much as running it.
_BY_NUMBER = select(Item).where(Item.type == bindparam("item_type"), Item.number == bindparam("number"))
_BY_NUMBER_LOCKED = _locked(_BY_NUMBER)
_BY_THREAD = _locked(select(Item, ItemMail).join(ItemMail, ItemMail.item_id == Item.id)
                     .where(ItemMail.item_type == bindparam("item_type"),
                            ItemMail.message_id.in_(bindparam("ids", expanding=True))).limit(1))
_ON_NOTIFY_LIST = select(ItemNotify.id).where(ItemNotify.item_id == bindparam("item_id"),
                                              ItemNotify.address == bindparam("address"))
_SENT_TO = select(OutboundMail.recipient).where(OutboundMail.message_id.in_(bindparam("ids", expanding=True)))
_IS_CONTACT = select(Contact.id).where(Contact.id == bindparam("contact_id"), Contact.email == bindparam("address"))


_BY_ID = select(Item).where(Item.id == bindparam("item_id"))
_BY_ID_LOCKED = _locked(_BY_ID)


def by_number(session: Session, item_type: str, number: int, *, lock: bool = False) -> Item | None:
    """``lock``: read it under its row lock, as ``repository.lock_item`` does. A merged item leads to
    the item it was merged into, so its tokens and number reach the target."""
    item = session.scalar(_BY_NUMBER_LOCKED if lock else _BY_NUMBER, {"item_type": item_type, "number": number})
    for _ in range(10):  # a chain of merges, bounded
        if item is None or item.merged_into_id is None:
            break
        item = session.scalar(_BY_ID_LOCKED if lock else _BY_ID, {"item_id": item.merged_into_id})
    return item


def thread_ids(mail: MailParsed) -> list[str]:
    return [*([mail.in_reply_to] if mail.in_reply_to else []), *reversed(mail.references)]


_ADDRESS = re.compile(r"[^\s<>@\"'()\[\],;:]+@[^\s<>@\"'()\[\],;:]+\.[^\s<>@\"'()\[\],;:]+")


def spoof_sign(mail: MailParsed) -> str | None:
    """A display name that is itself an address other than the real one (``a@x <b@y>``)."""
    if mail.from_ is None or not mail.from_.name:
        return None
    real = mail.from_.address.lower()
    shown = [a.lower().rstrip(".") for a in _ADDRESS.findall(mail.from_.name)]
    other = next((a for a in shown if a != real), None)
    return f"the display name shows {other}, not the sender {real}" if other else None


def find_item(session: Session, account: Account, mail: MailParsed, sender: Sender) -> Match:
    item_type = account.item_type
    considered: list[str] = []
    candidates: list[Item] = []  # items a signal named, for a follow-up link when none may be joined
    barred = _barred(account, mail, sender)
    ids = thread_ids(mail)
    for ref in mail.item_refs:
        if not ref.signed:
            continue
        if ref.item_type != item_type:
            considered.append(f"signed token for {ref.item_type} #{ref.number}: not this account's type")
            continue
        item = by_number(session, item_type, ref.number, lock=True)
        if item is None:
            considered.append(f"signed token for #{ref.number}: no such item")
            continue
        if barred:
            considered.append(f"signed token for #{ref.number}: {barred}")
            candidates.append(item)
            continue
        if ref.bound:
            return Match(item, "signed-token", f"our token for #{ref.number} in {ref.signal}, issued to "
                         f"{_from(mail)}", considered=considered, locked=True)
        why = _answered_ours(session, ids, mail, sender) or _on_item(session, item, sender)
        if why is not None:
            return Match(item, "signed-token", f"our token for #{ref.number} in {ref.signal}; {why}",
                         considered=considered, locked=True)
        considered.append(f"our token for #{ref.number}, but {_from(mail)} was not its recipient nor is on the "
                          "item: a token alone opens nothing")
        candidates.append(item)
    if ids:
        row = session.execute(_BY_THREAD, {"item_type": item_type, "ids": ids}).first()
        if row is None:
            considered.append("In-Reply-To/References name no mail on an item")
        else:
            item = row.Item
            why = None if barred else (_participant(row.ItemMail, mail, sender)
                                       or _answered_ours(session, [row.ItemMail.message_id], mail, sender)
                                       or _on_item(session, item, sender))
            if why is not None:
                return Match(item, "thread-header", f"In-Reply-To/References name {row.ItemMail.message_id}, "
                             f"already on the item; {why}", considered=considered, locked=True)
            considered.append(f"In-Reply-To/References name {row.ItemMail.message_id} on #{item.number}, but "
                              + (barred or f"{_from(mail)} was neither its sender nor a recipient nor is on the item"))
            candidates.append(item)
    for ref in mail.item_refs:
        if ref.signal != "subject-token" or ref.signed:
            continue
        item = by_number(session, item_type, ref.number)
        if item is None:
            considered.append(f"subject number #{ref.number}: no such {item_type}")
            continue
        vouched = None if barred else _on_item(session, item, sender)
        if vouched is not None:
            return Match(item, "subject-number", f"subject number #{ref.number}; {vouched}", considered=considered)
        considered.append(f"subject number #{ref.number} from {sender.address or 'nobody'}, "
                          + (barred or "who is not on the item's notification list nor its customer's")
                          + ": a possible follow-up, not appended")
        candidates.append(item)
    strangers = list({i.id: i for i in candidates}.values())
    if strangers:
        numbers = ", ".join(f"#{i.number}" for i in strangers)
        return Match(None, "new", f"new item, linked as a possible follow-up of {numbers}", strangers, considered)
    return Match(None, "new", "no reply signal: new item", considered=considered)


def _from(mail: MailParsed) -> str:
    return mail.from_.address.lower() if mail.from_ else "nobody"


def _barred(account: Account, mail: MailParsed, sender: Sender) -> str | None:
    """Why this sender may join no item by any signal, or None."""
    if sender.auth.failed:
        return f"the sender failed authentication ({sender.auth.reason})"
    spoof = spoof_sign(mail)
    if spoof is not None:
        return f"a spoof sign: {spoof}"
    if account.require_verified_sender_for_append and not sender.verified:
        return "the account lets only verified senders append, and this one is not (" + sender.auth.reason + ")"
    return None


def _addresses(sender: Sender, mail: MailParsed) -> set[str]:
    return {a for a in (sender.address, _from(mail) if mail.from_ else None) if a}


def _answered_ours(session: Session, ids: list[str], mail: MailParsed, sender: Sender) -> str | None:
    """The sender was the recipient of our mail it answers."""
    if not ids:
        return None
    sent_to = {r.lower() for r in session.scalars(_SENT_TO, {"ids": ids})}
    hit = sorted(sent_to & _addresses(sender, mail))
    return f"{hit[0]} was the recipient of our mail it answers" if hit else None


def _participant(answered: ItemMail, mail: MailParsed, sender: Sender) -> str | None:
    """The sender was the sender or a recipient of the item's mail it answers."""
    people = {answered.from_address.lower()} | participants(answered)
    hit = sorted(people & _addresses(sender, mail))
    return f"{hit[0]} was a sender or recipient of the mail it answers" if hit else None


def participants(row: ItemMail) -> set[str]:
    """Who a stored mail was from and to (its recorded ItemChanged event carries the addresses)."""
    found: set[str] = set()
    for envelope in (row.outputs or {}).get("envelopes", []):
        summary = (envelope.get("payload") or {}).get("mail") or {}
        for key in ("from", "reply_to", "to", "cc"):
            value = summary.get(key)
            for entry in (value if isinstance(value, list) else [value]):
                if isinstance(entry, dict) and entry.get("address"):
                    found.add(str(entry["address"]).lower())
    return found


def _on_item(session: Session, item: Item, sender: Sender) -> str | None:
    """Why this sender is on the item (a watcher, its contact, its customer's, our user), or None."""
    address = sender.address
    if address is None:
        return None
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
