"""The result against the ground truth: items, replies, auto-replies and dead letters, mail by mail."""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from shared.broker.port import H_REASON, H_STAGE
from shared.broker.topology import CONSUMERS, Topology
from shared.db.models import Item, ItemMail
from tests.bench.sink import Accepted
from tests.bench.workload import Mail


@dataclass(frozen=True)
class Row:
    """An inbound mail as the database has it."""

    id: int
    message_id: str
    item_id: int
    number: int
    matched_by: str
    created_at: datetime


def inbound_rows(sessions: sessionmaker[Session]) -> dict[str, list[Row]]:
    rows: dict[str, list[Row]] = defaultdict(list)
    with sessions() as s:
        query = (select(ItemMail.id, ItemMail.message_id, ItemMail.item_id, Item.number, ItemMail.matched_by,
                        ItemMail.created_at)
                 .join(Item, Item.id == ItemMail.item_id).where(ItemMail.direction == "in").order_by(ItemMail.id))
        for row_id, mid, item_id, number, matched_by, created in s.execute(query):
            rows[mid or ""].append(Row(row_id, mid or "", item_id, number, matched_by, created))
    return rows


def inbound_count(sessions: sessionmaker[Session]) -> int:
    """How many incoming mails are stored on an item."""
    with sessions() as s:
        return s.scalar(select(func.count()).select_from(ItemMail).where(ItemMail.direction == "in")) or 0


def item_count(sessions: sessionmaker[Session]) -> int:
    with sessions() as s:
        return len(s.scalars(select(Item.id)).all())


def numbers_by_message_id(sessions: sessionmaker[Session]) -> dict[str, int]:
    return {mid: rows[0].number for mid, rows in inbound_rows(sessions).items()}


@dataclass(frozen=True)
class DeadLetter:
    stage: str
    key: str | None
    reason: str
    copies: int = 1


def read_dead_letters(amqp_url: str, topology: Topology, key_of) -> list[DeadLetter]:  # type: ignore[no-untyped-def]
    """The dead letters as an operator reads them (``postroom dlq list``): copies of one letter,
    dead-lettered again by a consumer killed before it acked, are one letter."""
    from shared.broker.admin import dead_letter_inbox

    out = []
    with dead_letter_inbox(amqp_url, topology) as inbox:
        for consumer in CONSUMERS:
            for letter in inbox.read(consumer):
                source_id = letter.payload.get("source_id") or ""
                out.append(DeadLetter(str(letter.headers.get(H_STAGE, consumer)), key_of(source_id),
                                      str(letter.headers.get(H_REASON, "")), 1 + len(letter.copies)))
    return out


@dataclass
class Verdict:
    mails_in: int = 0
    items_expected: int = 0
    items_created: int = 0
    replies_expected: int = 0
    replies_appended: int = 0
    lost: list[str] = field(default_factory=list)
    duplicates: list[str] = field(default_factory=list)
    misplaced: list[str] = field(default_factory=list)
    auto_expected: int = 0
    auto_sent: int = 0  # distinct mails answered
    auto_missing: list[str] = field(default_factory=list)
    auto_unexpected: list[str] = field(default_factory=list)
    auto_resent_same_id: int = 0  # the documented window: accepted, then killed before recording
    # Each re-send: (when the server first accepted that Message-ID, when it accepted it again).
    auto_resent_at: list[tuple[float, float]] = field(default_factory=list)
    auto_duplicates: list[str] = field(default_factory=list)  # a second auto-reply with another Message-ID
    dead_expected: int = 0
    dead_letters: list[DeadLetter] = field(default_factory=list)
    dead_unexpected: list[str] = field(default_factory=list)
    dead_missing: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not (self.lost or self.duplicates or self.misplaced or self.auto_missing or self.auto_unexpected
                    or self.auto_duplicates or self.dead_unexpected or self.dead_missing
                    or self.items_created != self.items_expected)


def verify(mails: list[Mail], rows: dict[str, list[Row]], items: int, accepted: list[Accepted],
           dead: list[DeadLetter]) -> Verdict:
    v = Verdict(mails_in=len(mails), items_created=items, dead_letters=dead)
    first_row = {mid: r[0] for mid, r in rows.items()}
    opened_by: dict[int, int] = {}  # item id -> id of its first inbound mail (the one that created it)
    for r in sorted((r[0] for r in rows.values()), key=lambda r: r.id):
        opened_by.setdefault(r.item_id, r.id)
    for mail in mails:
        got = rows.get(mail.message_id, [])
        if len(got) > 1:
            v.duplicates.append(f"{mail.key}: {len(got)} rows")
        if mail.expect.item == "new":
            v.items_expected += 1
            if not got:
                v.lost.append(mail.key)
            elif opened_by.get(got[0].item_id) != got[0].id:
                v.misplaced.append(f"{mail.key}: appended ({got[0].matched_by}) instead of a new item")
        elif mail.expect.item == "append":
            v.replies_expected += 1
            parent = first_row.get(mail.expect.parent or "")
            if not got:
                v.lost.append(mail.key)
            elif parent is None or got[0].item_id != parent.item_id:
                v.misplaced.append(f"{mail.key}: on item #{got[0].number}, not its original's")
            else:
                v.replies_appended += 1
        elif got:
            v.misplaced.append(f"{mail.key}: stored, but should have been refused")
    known = {m.message_id for m in mails}
    v.duplicates += [f"unknown inbound mail {mid}" for mid in rows if mid not in known]
    _auto_replies(v, mails, accepted)
    _dead_letters(v, mails, dead)
    return v


def _auto_replies(v: Verdict, mails: list[Mail], accepted: list[Accepted]) -> None:
    expected = {m.message_id: m.key for m in mails if m.expect.auto_reply}
    v.auto_expected = len(expected)
    by_parent: dict[str, Counter[str]] = defaultdict(Counter)
    times: dict[str, list[float]] = defaultdict(list)
    for a in accepted:
        by_parent[a.in_reply_to][a.message_id] += 1
        times[a.message_id].append(a.at)
    for parent, ids in by_parent.items():
        if parent not in expected:
            v.auto_unexpected.append(parent)
            continue
        v.auto_sent += 1
        if len(ids) > 1:
            v.auto_duplicates.append(f"{expected[parent]}: {len(ids)} different Message-IDs")
        v.auto_resent_same_id += sum(n - 1 for n in ids.values())
        for mid, n in ids.items():
            at = sorted(times[mid])
            v.auto_resent_at += [(at[0], again) for again in at[1:]] if n > 1 else []
    v.auto_missing = sorted(key for mid, key in expected.items() if mid not in by_parent)


def _dead_letters(v: Verdict, mails: list[Mail], dead: list[DeadLetter]) -> None:
    wanted = {m.key: m.expect.dead_letter for m in mails if m.expect.dead_letter}
    v.dead_expected = len(wanted)
    seen = set()
    for d in dead:
        reason = wanted.get(d.key or "")
        if reason is None or reason not in d.reason or d.key in seen:
            v.dead_unexpected.append(f"{d.stage}: {d.key}: {d.reason[:120]}")
        seen.add(d.key)
    v.dead_missing = sorted(set(wanted) - seen)
