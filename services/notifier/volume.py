"""What the governor's volume rules read, for a whole batch of events at once: the failing flags
of its recipients, the breakers that could stop them, which of our mails they answer, and the
counts behind every cap, in one query each instead of several per recipient.

The caps count automatic mail a loop could have caused (``OutboundMail.counted``): per recipient,
mails; per item, rounds (the events that sent automatic mail: one notice to five watchers is one
round). The counts are kept current as the batch records pending rows; a batch whose work is rolled
back is handled again from a fresh read, so a rolled-back row never counts."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from functools import lru_cache
from typing import Any

from sqlalchemy import Select, bindparam, func, select
from sqlalchemy.orm import Session

from services.notifier.breakers import Breaker, BreakerKey
from shared.contracts import ItemChanged
from shared.db.models import Contact, Item, ItemMail, LoopBreaker, OutboundMail


@dataclass
class Seen:
    now: datetime
    failing: dict[str, str]  # lower-cased address -> why it is flagged
    breakers: dict[BreakerKey, Breaker]  # the batch's breakers, open or expired
    to_recipient: dict[str, list[int]] = field(default_factory=dict)  # counted mails, one count per cap
    for_item: dict[int, list[int]] = field(default_factory=dict)  # counted rounds, one count per cap
    created_by: dict[str, list[int]] = field(default_factory=dict)  # items created by a sender, per cap
    replies: set[str] = field(default_factory=set)  # Message-IDs (of the ones asked) of people's replies
    rounds: set[tuple[int, str]] = field(default_factory=set)  # (item id, event id) counted by this batch
    # Cap refusals this batch will write (its rows go at its end): events per breaker, and per
    # account the correspondents whose caps refused.
    cap_hits: dict[BreakerKey, set[str]] = field(default_factory=dict)
    capped: dict[str, set[str]] = field(default_factory=dict)
    changed: bool = False  # a breaker opened or closed: its metric is published after the commit

    def count_pending(self, recipient: str, item_id: int, event_id: str, recipient_caps: int,
                      item_caps: int) -> None:
        """A counted pending row was just recorded: it counts in every window, as it was created now;
        against its item once per event."""
        self.to_recipient[recipient] = [n + 1 for n in counts(self.to_recipient, recipient, recipient_caps)]
        if (item_id, event_id) not in self.rounds:
            self.rounds.add((item_id, event_id))
            self.for_item[item_id] = [n + 1 for n in counts(self.for_item, item_id, item_caps)]


def counts(table: dict[Any, list[int]], key: Any, caps: int) -> list[int]:
    return table.get(key) or [0] * caps


# Statements built once, the values bound at execution (building and caching a statement per batch
# cost more than running it, for the small batches of a steady flow); Core rows, no ORM objects.
_FAILING = select(Contact.email, Contact.failing_reason).where(
    Contact.email.in_(bindparam("emails", expanding=True)), Contact.failing)
_BREAKERS = select(LoopBreaker.account, LoopBreaker.scope, LoopBreaker.key, LoopBreaker.open_until,
                   LoopBreaker.reason).where(LoopBreaker.account.in_(bindparam("accounts", expanding=True)),
                                             LoopBreaker.key.in_(bindparam("keys", expanding=True)))
_REPLIES = select(ItemMail.message_id).where(ItemMail.message_id.in_(bindparam("ids", expanding=True)),
                                             ItemMail.direction == "out", ItemMail.classification == "reply")


def read(session: Session, events: Iterable[ItemChanged], now: datetime, *, per_recipient: Sequence[timedelta],
         per_item: Sequence[timedelta], items_per_sender: Sequence[timedelta], ours: set[str]) -> Seen:
    """``ours``: our Message-IDs the events answer; ``Seen.replies`` says which are people's replies."""
    events = list(events)
    conn = session.connection()
    recipients = {a.address for e in events for a in (*e.mail.reply_to, *e.mail.cc, *e.notify,
                                                      *([e.mail.from_] if e.mail.from_ else []))}
    lowered = {r.lower() for r in recipients}
    accounts = {e.account for e in events}
    failing = {r.email: r.failing_reason or "" for r in conn.execute(_FAILING, {"emails": list(lowered)})} \
        if lowered else {}
    keys = {"", *lowered, *(str(e.item.id) for e in events)}  # the account's, the recipients', the items'
    breakers = {(r.account, r.scope, r.key): Breaker(r.open_until, r.reason)
                for r in conn.execute(_BREAKERS, {"accounts": list(accounts), "keys": list(keys)})}
    replies = {m for m in conn.execute(_REPLIES, {"ids": list(ours)}).scalars() if m} if ours else set()
    senders = {e.mail.from_.address for e in events if e.change == "created" and e.mail.from_ is not None}
    return Seen(now, failing, breakers,
                to_recipient=_counts(session, _outbox_counts("recipient", len(per_recipient)), recipients,
                                     per_recipient, now),
                for_item=_counts(session, _outbox_counts("item_id", len(per_item)), {e.item.id for e in events},
                                 per_item, now),
                created_by=_counts(session, _created_counts(len(items_per_sender)), senders, items_per_sender, now),
                replies=replies)


def _counts(session: Session, statement: Select[Any] | None, keys: set[Any], windows: Sequence[timedelta],
            now: datetime) -> dict[Any, list[int]]:
    """Per key, one count per window: ``statement`` binds the keys and each window's start."""
    if statement is None or not keys:
        return {}
    params: dict[str, Any] = {f"since_{i}": now - w for i, w in enumerate(windows)}
    rows = session.connection().execute(statement, {**params, "keys": list(keys), "oldest": now - max(windows)})
    return {row[0]: [n or 0 for n in row[1:]] for row in rows}


@lru_cache
def _outbox_counts(column_name: str, windows: int) -> Select[Any] | None:
    """Counted mail sent (or about to be) per key and cap window: per recipient mails, per item
    rounds (distinct events)."""
    if not windows:
        return None
    column = OutboundMail.__table__.c[column_name]
    counted = func.count(OutboundMail.id) if column_name == "recipient" else func.count(func.distinct(
        OutboundMail.event_id))
    return (select(column, *[counted.filter(OutboundMail.created_at >= bindparam(f"since_{i}"))
                             for i in range(windows)])
            .where(OutboundMail.status.in_(("sent", "pending")), OutboundMail.counted,
                   OutboundMail.created_at >= bindparam("oldest"), column.in_(bindparam("keys", expanding=True)))
            .group_by(column))


@lru_cache
def _created_counts(windows: int) -> Select | None:  # any columns
    """Items each sender's mail created, per cap window."""
    if not windows:
        return None
    return (select(ItemMail.from_address,
                   *[func.count(func.distinct(Item.id)).filter(Item.created_at >= bindparam(f"since_{i}"))
                     for i in range(windows)])
            .join(Item, ItemMail.item_id == Item.id)
            .where(ItemMail.direction == "in", ItemMail.from_address.in_(bindparam("keys", expanding=True)),
                   Item.created_at >= bindparam("oldest"))
            .group_by(ItemMail.from_address))
