"""What the governor's volume rules read, for a whole batch of events at once: the failing flags
of its recipients, the accounts' breakers, and the counts behind every cap, in one query each
instead of several per recipient.

The counts are kept current as the batch records pending rows (each counts against its recipient's
and its item's caps at once, as the row in the database would); a batch whose work is rolled back
is handled again from a fresh read, so a rolled-back row never counts."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from shared.contracts import ItemChanged
from shared.db.models import Contact, Item, ItemMail, LoopBreaker, OutboundMail


@dataclass
class Seen:
    now: datetime
    failing: dict[str, str]  # lower-cased address -> why it is flagged
    breakers: dict[str, LoopBreaker | None]  # account -> its breaker row, if any
    to_recipient: dict[str, list[int]] = field(default_factory=dict)  # sent or pending, one count per cap
    for_item: dict[int, list[int]] = field(default_factory=dict)
    created_by: dict[str, list[int]] = field(default_factory=dict)  # items created by a sender, per cap
    cap_hits: dict[str, int] = field(default_factory=dict)  # account -> cap refusals this batch will write

    def count_pending(self, recipient: str, item_id: int, recipient_caps: int, item_caps: int) -> None:
        """A pending row was just recorded: it counts in every window, as it was created now."""
        self.to_recipient[recipient] = [n + 1 for n in counts(self.to_recipient, recipient, recipient_caps)]
        self.for_item[item_id] = [n + 1 for n in counts(self.for_item, item_id, item_caps)]


def counts(table: dict[Any, list[int]], key: Any, caps: int) -> list[int]:
    return table.get(key) or [0] * caps


def read(session: Session, events: Iterable[ItemChanged], now: datetime, *, per_recipient: Sequence[timedelta],
         per_item: Sequence[timedelta], items_per_sender: Sequence[timedelta]) -> Seen:
    events = list(events)
    recipients = {a.address for e in events for a in (*e.mail.reply_to, *e.mail.cc, *e.notify,
                                                      *([e.mail.from_] if e.mail.from_ else []))}
    lowered = {r.lower() for r in recipients}
    accounts = {e.account for e in events}
    failing = {c.email: c.failing_reason or "" for c in session.scalars(
        select(Contact).where(Contact.email.in_(lowered), Contact.failing))} if lowered else {}
    breakers: dict[str, LoopBreaker | None] = dict.fromkeys(accounts)
    breakers.update({b.account: b for b in session.scalars(
        select(LoopBreaker).where(LoopBreaker.account.in_(accounts)))})
    senders = {e.mail.from_.address for e in events if e.change == "created" and e.mail.from_ is not None}
    return Seen(now, failing, breakers,
                to_recipient=_outbox_counts(session, OutboundMail.recipient, recipients, per_recipient, now),
                for_item=_outbox_counts(session, OutboundMail.item_id, {e.item.id for e in events}, per_item, now),
                created_by=_created_counts(session, senders, items_per_sender, now))


def _outbox_counts(session: Session, column: Any, keys: set[Any], windows: Sequence[timedelta],
                   now: datetime) -> dict[Any, list[int]]:
    """Sent (or about to be) per key and cap window."""
    if not keys or not windows:
        return {}
    rows = session.execute(
        select(column, *[func.count(OutboundMail.id).filter(OutboundMail.created_at >= now - window)
                         for window in windows])
        .where(OutboundMail.status.in_(("sent", "pending")),
               OutboundMail.created_at >= now - max(windows), column.in_(keys))
        .group_by(column))
    return {row[0]: [n or 0 for n in row[1:]] for row in rows}


def _created_counts(session: Session, senders: set[str], windows: Sequence[timedelta],
                    now: datetime) -> dict[str, list[int]]:
    """Items each sender's mail created, per cap window."""
    if not senders or not windows:
        return {}
    rows = session.execute(
        select(ItemMail.from_address, *[func.count(func.distinct(Item.id)).filter(Item.created_at >= now - window)
                                        for window in windows])
        .join(Item, ItemMail.item_id == Item.id)
        .where(ItemMail.direction == "in", ItemMail.from_address.in_(senders),
               Item.created_at >= now - max(windows))
        .group_by(ItemMail.from_address))
    return {row[0]: [n or 0 for n in row[1:]] for row in rows}
