"""The fetcher reading Graph and Gmail accounts (their HTTP fakes, signed in at the fake authorities)
with the real parser and itemwriter consuming from the same memory broker, so a mail delivered to
the fake mailbox can be followed until it is an item."""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from typing import Any

from sqlalchemy import func, select

from services.itemwriter.handlers import make_handler as make_itemwriter
from services.parser.handlers import make_handler as make_parser
from services.parser.limits import Limits
from shared.broker.memory import MemoryBroker
from shared.db.models import Item
from shared.store import store_from
from shared.tokens import ItemTokens
from tests.support.fetching import running_fetcher
from tests.support.pipeline import TOKEN_SECRET, consuming


@contextmanager
def fetching_into_items(settings: Any, broker: MemoryBroker, sessions: Any) -> Iterator[None]:
    """The fetcher, the parser and the itemwriter until the block ends."""
    with ExitStack() as stack:
        stack.enter_context(consuming(broker, "parser", make_parser(store_from(settings),
                                                                    ItemTokens("[#{number}]", TOKEN_SECRET), Limits()),
                                      max_retries=1, retry_step=broker.topology.retry_step))
        stack.enter_context(consuming(broker, "itemwriter", make_itemwriter(sessions), max_retries=3,
                                      retry_step=broker.topology.retry_step))
        stack.enter_context(running_fetcher(settings, broker))
        yield


def item_count(sessions: Any) -> int:
    with sessions() as session:
        return int(session.scalar(select(func.count()).select_from(Item)) or 0)


def fetched_source_ids(broker: MemoryBroker) -> Counter[str]:
    """How often each source id was published as fetched mail (the parser's outputs left out)."""
    return Counter(json.loads(m.body)["payload"]["source_id"] for m in broker.published
                   if m.routing_key.startswith("mail.fetched."))


def mail(n: int) -> bytes:
    return (f"From: Ada <ada{n}@customer.example>\r\nTo: support@contoso.example\r\nSubject: Question {n}\r\n"
            f"Message-ID: <q{n}@customer.example>\r\nDate: Thu, 03 Dec 2026 09:00:00 +0000\r\n\r\n"
            f"Question number {n}.\r\n").encode()
