"""Building blocks for itemwriter tests: accounts, catalog rows and parsed mails, handled for real."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload, sessionmaker

from services.itemwriter.handlers import make_handler
from services.parser.handlers import make_handler as make_parser_handler
from services.parser.limits import Limits
from shared.contracts import (Address, BlobRef, Classification, Envelope, ItemChanged, ItemRef, MailFetched,
                              MailParsed)
from shared.db.engine import transaction
from shared.db.models import Account, Item, ItemMail
from shared.errors import RetryLater
from shared.store import BlobStore
from shared.tokens import ItemTokens
from tests.support.pipeline import TOKEN_SECRET

TEST_SECRET = TOKEN_SECRET  # long enough for the services to accept it
TOKENS = ItemTokens("[#{number}]", TEST_SECRET)
TRUSTED = "mx.ours.example"
_counter = itertools.count(1)


def add_account(sessions: sessionmaker[Session], name: str = "support", **settings: Any) -> None:
    values: dict[str, Any] = {"kind": "stdin", "address": f"{name}@ours.example", "project": "Support",
                              "item_type": "incident", "config": {}} | settings
    with transaction(sessions) as session:
        session.add(Account(name=name, **values))


def add(sessions: sessionmaker[Session], *rows: Any) -> None:
    with transaction(sessions) as session:
        for row in rows:
            session.add(row)
            session.flush()


def mail(*, account: str = "support", sender: str = "alice@customer.example", subject: str = "Printer on fire",
         message_id: str | None = None, in_reply_to: str | None = None, references: list[str] | None = None,
         text: str = "It is on fire.", kind: str = "human", auth: list[str] | None = None,
         source_id: str | None = None, **extra: Any) -> Envelope[Any]:
    n = next(_counter)
    message_id = message_id or f"<m{n}.{datetime.now(UTC).timestamp()}@customer.example>"
    refs = [ItemRef(number=num, signal="subject-token") for num in TOKENS.numbers_in_subject(subject)]
    for signal, ids in (("in-reply-to", [in_reply_to] if in_reply_to else []), ("references", references or [])):
        for mid in ids:
            refs += [ItemRef(number=r.number, signal=signal, item_type=r.item_type,  # type: ignore[arg-type]
                             signed=r.valid, bound=r.bound)
                     for r in TOKENS.items_in_message_id(mid, sender)]
    payload = MailParsed(
        account=account, source_id=source_id or f"src-{n}-{message_id}",
        raw=BlobRef(key="sha256:" + "a" * 64, size=100, sha256=f"{n:064d}"), message_id=message_id,
        date=datetime(2026, 11, 26, 9, 30, tzinfo=UTC), subject=subject, **{"from": Address(address=sender)},
        in_reply_to=in_reply_to, references=references or [], text=text,
        classification=Classification(kind=kind, reason="test"), item_refs=refs,  # type: ignore[arg-type]
        authentication_results=auth or [], **extra)
    return Envelope.first(payload)


def written(sessions: sessionmaker[Session], envelope: Envelope[Any], attempts: int = 20) -> list[ItemChanged]:
    """Run the real handler as the runner would, retrying what it asks to retry: the event it emitted,
    none when the rules held the mail back (postroom held list)."""
    handler = make_handler(sessions)
    for attempt in range(attempts):
        try:
            outputs = handler(envelope)
        except RetryLater:
            if attempt == attempts - 1:
                raise
            continue
        assert len(outputs) <= 1
        return [output.payload for output in outputs]
    raise AssertionError("unreachable")


def handle(sessions: sessionmaker[Session], envelope: Envelope[Any], attempts: int = 20) -> ItemChanged:
    """The item event of a mail the itemwriter places (created, appended, duplicate)."""
    [changed] = written(sessions, envelope, attempts)
    return changed


def through_parser(sessions: sessionmaker[Session], store: BlobStore, tokens: ItemTokens, raw: bytes,
                   account: str = "support", parsed: list[MailParsed] | None = None) -> list[ItemChanged]:
    """``raw`` as the fetcher leaves it (in the store, a MailFetched naming it), through the parser's
    handler and then the itemwriter's: what the itemwriter made of it, nothing when the parser sent
    nothing on or the itemwriter held it back. What the parser sent on is added to ``parsed`` when given."""
    blob = store.put(raw)
    fetched = MailFetched(account=account, source="stdin", source_id=f"raw-{next(_counter)}-{blob.sha256[:12]}",
                          raw=blob, received_at=datetime.now(UTC))
    outputs = make_parser_handler(store, tokens, Limits())(Envelope.first(fetched))
    if parsed is not None:
        parsed += [envelope.payload for envelope in outputs]
    return [changed for envelope in outputs for changed in written(sessions, envelope)]


def item(sessions: sessionmaker[Session], number: int, item_type: str = "incident") -> Item:
    with sessions() as session:
        found = session.scalar(select(Item).where(Item.type == item_type, Item.number == number)
                               .options(selectinload(Item.mails), selectinload(Item.attachments)))
        assert found is not None, f"no {item_type} #{number}"
        return found


def item_count(sessions: sessionmaker[Session]) -> int:
    with sessions() as session:
        return len(session.scalars(select(Item.id)).all())


def mails_of(sessions: sessionmaker[Session], item_id: int) -> list[ItemMail]:
    with sessions() as session:
        return list(session.scalars(select(ItemMail).where(ItemMail.item_id == item_id).order_by(ItemMail.id)))


def our_message_id(number: int, item_type: str = "incident", to: str | None = "alice@customer.example") -> str:
    """The Message-ID of our mail about the item to ``to`` (None: a token of the first, unbound shape)."""
    return TOKENS.message_id(item_type, number, "ours.example", recipient=to)


def fetched_through(sessions: sessionmaker[Session], store: BlobStore, tokens: ItemTokens,
                    fetched: Envelope[Any]) -> list[ItemChanged]:
    """A MailFetched the real fetcher published (its raw mail in ``store``), through the parser's
    handler and the itemwriter's: what the itemwriter made of it."""
    outputs = make_parser_handler(store, tokens, Limits())(fetched)
    return [changed for envelope in outputs for changed in written(sessions, envelope)]
