"""Two itemwriter replicas on one stream: no twin item numbers, no lost appends, no double items."""

from __future__ import annotations

import threading
from typing import Any

from sqlalchemy import func, select
from sqlalchemy import text as text_

from shared.db.engine import make_engine, make_sessionmaker
from shared.db.models import Item, ItemMail
from tests.support.items import add_account, handle, item, mail, our_message_id

NEW, REPLIES, SHARED = 16, 16, 4


def _replica(database_url: str, envelopes: list[Any], start: threading.Barrier, errors: list[BaseException],
             events: list[Any]) -> None:
    engine = make_engine(database_url)
    try:
        sessions = make_sessionmaker(engine)
        start.wait(timeout=30)
        for envelope in envelopes:
            events.append(handle(sessions, envelope, attempts=50))
    except BaseException as exc:  # reported by the test, not lost in the thread
        errors.append(exc)
    finally:
        engine.dispose()


def test_two_replicas_give_unique_numbers_and_keep_every_append(database_url: str, sessions) -> None:  # type: ignore[no-untyped-def]
    add_account(sessions, "support", default_values={"step": "waiting-for-customer"})
    add_account(sessions, "sales")
    handle(sessions, mail(message_id="<root@customer.example>"))
    news = [mail(subject=f"new {i}") for i in range(NEW)]
    replies = [mail(in_reply_to=our_message_id(1) if i % 2 else "<root@customer.example>", subject=f"re {i}")
               for i in range(REPLIES)]
    # The same mails reach both replicas, through two accounts of the same type.
    shared = [(mail(account="support", message_id=f"<both{i}@c.example>"),
               mail(account="sales", message_id=f"<both{i}@c.example>")) for i in range(SHARED)]
    streams: list[list[Any]] = [[], []]
    for i, envelope in enumerate([e for pair in zip(news, replies, strict=True) for e in pair]):
        streams[i % 2].append(envelope)
    for a, b in shared:
        streams[0].append(a)
        streams[1].append(b)
    start, errors, events = threading.Barrier(2), [], []  # type: ignore[var-annotated]
    threads = [threading.Thread(target=_replica, args=(database_url, s, start, errors, events)) for s in streams]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert not errors, errors
    assert not any(t.is_alive() for t in threads)

    with sessions() as session:
        numbers = sorted(session.scalars(select(Item.number).where(Item.type == "incident")))
        inbound = session.scalar(select(func.count(ItemMail.id)).where(ItemMail.direction == "in"))
    assert numbers == list(range(1, 1 + 1 + NEW + SHARED))
    assert sorted(m.subject for m in item(sessions, 1).mails[1:]) == sorted(f"re {i}" for i in range(REPLIES))
    assert inbound == 1 + NEW + REPLIES + SHARED
    # The first reply takes the waiting item back to the agents; the others find it there already.
    moved = [e.status_change for e in events if e.change == "appended" and e.status_change is not None]
    assert [(c.from_status, c.to_status) for c in moved] == [("waiting", "open")]


def test_a_reply_waiting_on_another_replies_lock_sees_the_status_that_one_left(database_url: str, sessions) -> None:  # type: ignore[no-untyped-def]
    """PostgreSQL runs writers side by side; the item's row lock makes the second reply wait for the
    first and compute its transition from the committed status (SQLite's writers never overlap)."""
    import pytest

    from services.itemwriter.writer import write_item
    from tests.support.waiting import wait_for

    if not database_url.startswith("postgresql"):
        pytest.skip("SQLite's BEGIN IMMEDIATE lets no two writers overlap: there is no race to close")
    add_account(sessions, "support", default_values={"step": "waiting-for-customer"})
    handle(sessions, mail())
    first, second = mail(in_reply_to=our_message_id(1)), mail(in_reply_to=our_message_id(1))
    results: list[Any] = []
    with sessions() as a:
        a.begin()
        assert write_item(a, first).outputs[0].payload.status_change is not None
        thread = threading.Thread(target=lambda: results.append(handle(sessions, second)))
        thread.start()
        with sessions() as probe:
            def waiting_on_a_lock() -> int:
                # pg_stat_activity is read once per transaction: each look is a transaction of its own.
                try:
                    return probe.scalar(text_(
                        "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
                        "AND wait_event_type = 'Lock'")) or 0
                finally:
                    probe.rollback()

            wait_for(waiting_on_a_lock, what="the second reply waiting for the item's lock")
        a.commit()
    thread.join(timeout=30)
    assert results and results[0].change == "appended" and results[0].status_change is None
