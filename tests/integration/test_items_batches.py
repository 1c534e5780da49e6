"""A batch of mails in one transaction: each mail's outcome is its own, and one commit keeps them all."""

from __future__ import annotations

import json
from typing import Any

import pytest

from services.itemwriter.handlers import ItemWriter
from shared.contracts import Attachment, BlobRef
from shared.errors import Reject
from tests.support.items import add_account, item, item_count, mail, mails_of, our_message_id


def _changes(results: list[Any]) -> list[str]:
    return [type(r).__name__ if isinstance(r, Exception) else r[0].payload.change for r in results]


def test_a_rejected_mail_in_a_batch_leaves_its_batch_mates_written(sessions) -> None:  # type: ignore[no-untyped-def]
    add_account(sessions)
    batch = [mail(subject="first"), mail(account="nobody", subject="lost"), mail(subject="third")]
    results = ItemWriter(sessions).handle_batch(batch)
    assert _changes(results) == ["created", "Reject", "created"]
    assert isinstance(results[1], Reject) and "unknown account 'nobody'" in str(results[1])
    assert [item(sessions, n).title for n in (1, 2)] == ["first", "third"]
    assert item_count(sessions) == 2


def test_a_reply_and_a_repeat_in_the_same_batch_find_what_the_batch_wrote_before_them(sessions) -> None:  # type: ignore[no-untyped-def]
    add_account(sessions)
    first = mail(message_id="<root@customer.example>")
    results = ItemWriter(sessions).handle_batch([first, mail(in_reply_to="<root@customer.example>"), first,
                                                 mail(in_reply_to=our_message_id(1))])
    # The repeat re-publishes the outputs recorded for the first: the same event, not a new item.
    assert _changes(results) == ["created", "appended", "created", "appended"]
    assert results[2][0].message_id == results[0][0].message_id
    assert item_count(sessions) == 1 and len(mails_of(sessions, item(sessions, 1).id)) == 3


def test_a_mail_failing_halfway_rolls_back_only_its_own_rows(sessions, database_url: str) -> None:  # type: ignore[no-untyped-def]
    """Its item, notification rows and mail row go with its savepoint; the next mail takes its number."""
    if not database_url.startswith("postgresql"):
        pytest.skip("SQLite does not enforce column lengths: nothing fails halfway")
    add_account(sessions, save_attachments=True, add_sender_to_notify=True)
    # Fails when its attachment row is written, after the item, its notification list and its mail.
    too_long = Attachment(blob=BlobRef(key="sha256:" + "b" * 64, size=1, sha256="b" * 64), filename="a.txt",
                          content_type="text/plain", size=1, sha256="b" * 64, content_id="x" * 600)
    batch = [mail(subject="before"), mail(subject="broken", attachments=[too_long]), mail(subject="after")]
    results = ItemWriter(sessions).handle_batch(batch)
    assert _changes(results) == ["created", "DataError", "created"]
    assert [item(sessions, n).title for n in (1, 2)] == ["before", "after"]
    assert item_count(sessions) == 2


def test_two_replicas_writing_batches_give_unique_numbers_and_keep_every_append(database_url: str, sessions) -> None:  # type: ignore[no-untyped-def]
    """Batches hold their locks until their one commit: a mail caught in a conflict or a deadlock is
    retried alone, and nothing is lost or doubled."""
    import threading

    from sqlalchemy import func, select

    from shared.db.engine import make_engine, make_sessionmaker
    from shared.db.models import Item, ItemMail
    from tests.support.items import handle

    add_account(sessions, "support")
    handle(sessions, mail(message_id="<root@customer.example>"))
    streams: list[list[Any]] = [[], []]
    for i in range(24):
        streams[i % 2].append(mail(subject=f"new {i}") if i % 3 else mail(in_reply_to="<root@customer.example>",
                                                                          subject=f"re {i}"))
    errors: list[BaseException] = []
    start = threading.Barrier(2)

    def replica(envelopes: list[Any]) -> None:
        engine = make_engine(database_url)
        try:
            writer = ItemWriter(make_sessionmaker(engine))
            start.wait(timeout=30)
            todo = envelopes
            for _ in range(50):
                if not todo:
                    return
                results = writer.handle_batch(todo[:8])
                again = [e for e, r in zip(todo[:8], results, strict=True) if isinstance(r, Exception)]
                todo = again + todo[8:]
            raise AssertionError(f"still failing: {todo}")
        except BaseException as exc:  # reported by the test, not lost in the thread
            errors.append(exc)
        finally:
            engine.dispose()

    threads = [threading.Thread(target=replica, args=(s,)) for s in streams]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert not errors, errors
    with sessions() as session:
        numbers = sorted(session.scalars(select(Item.number)))
        inbound = session.scalar(select(func.count(ItemMail.id)).where(ItemMail.direction == "in"))
    news = sum(1 for i in range(24) if i % 3)
    assert numbers == list(range(1, 2 + news))
    assert inbound == 1 + 24
    assert sorted(m.subject for m in item(sessions, 1).mails[1:]) == sorted(f"re {i}" for i in range(24) if not i % 3)


def _stream(account: str, item_type: str) -> list[Any]:
    """Mails that meet what was written before them: a repeat, the same mail by another path, replies
    by header, by signed token and by number, a stranger's number, senders seen before."""
    root = f"<root.{account}@customer.example>"
    new = mail(account=account, message_id=root, sender="alice@customer.example")
    return [
        new,
        mail(account=account, in_reply_to=root, sender="alice@customer.example", subject="Re: Printer on fire"),
        new,
        mail(account=account, message_id=root, source_id=f"other-path-{account}"),
        mail(account=account, sender="bob@elsewhere.example", subject="[#2] me too"),
        mail(account=account, sender="alice@customer.example", subject="[#2] still burning"),
        mail(account=account, in_reply_to=our_message_id(2, item_type, to="carol@customer.example"),
             sender="carol@customer.example"),
        mail(account=account, sender="bob@elsewhere.example", subject="Out of office", kind="auto-reply"),
    ]


def _seen(payload: Any) -> dict[str, Any]:
    """The event without what differs by account: ids, item type, the mail as it came."""
    seen = payload.model_dump(mode="json", exclude={"account", "mail"})
    del seen["item"]["id"], seen["item"]["type"]
    return seen


def test_a_batch_gives_each_mail_the_outcome_it_gets_alone(sessions) -> None:  # type: ignore[no-untyped-def]
    """Reads made once for the batch and no savepoint per mail change no decision."""
    from tests.support.items import handle

    add_account(sessions, "alone", item_type="incident", add_sender_to_notify=True)
    add_account(sessions, "batched", item_type="problem", add_sender_to_notify=True)
    earlier = {name: mail(account=name, sender="dave@customer.example") for name in ("alone", "batched")}
    for envelope in earlier.values():
        handle(sessions, envelope)
    alone = [_seen(handle(sessions, e)) for e in [earlier["alone"], *_stream("alone", "incident")]]
    results = ItemWriter(sessions).handle_batch([earlier["batched"], *_stream("batched", "problem")])
    batched = [_seen(r[0].payload) for r in results]
    assert batched == alone
    # The repeat and the same mail by another path re-publish the first's event.
    assert [(s["change"], s["matched_by"]) for s in batched] == [
        ("created", "new"), ("created", "new"), ("appended", "thread-header"), ("created", "new"), ("created", "new"),
        ("created", "new"), ("appended", "subject-number"), ("appended", "signed-token"), ("created", "new")]
    assert results[3][0].message_id == results[4][0].message_id == results[1][0].message_id
    decisions = {t: json.dumps([m.decision for m in mails_of(sessions, item(sessions, 2, t).id)])
                 for t in ("incident", "problem")}
    assert decisions["problem"].replace("batched", "alone") == decisions["incident"]


def test_a_batch_written_again_after_a_failure_logs_each_mail_once(sessions, database_url: str) -> None:  # type: ignore[no-untyped-def]
    """The first write, rolled back when a mail fails, said nothing: the lines are the committed ones."""
    from structlog.testing import capture_logs

    if not database_url.startswith("postgresql"):
        pytest.skip("SQLite does not enforce column lengths: nothing fails halfway")
    add_account(sessions, save_attachments=True)
    too_long = Attachment(blob=BlobRef(key="sha256:" + "b" * 64, size=1, sha256="b" * 64), filename="a.txt",
                          content_type="text/plain", size=1, sha256="b" * 64, content_id="x" * 600)
    with capture_logs() as logs:
        results = ItemWriter(sessions).handle_batch([mail(subject="one"), mail(attachments=[too_long]),
                                                     mail(subject="two")])
    assert _changes(results) == ["created", "DataError", "created"]
    assert [(e["event"], e["item_number"]) for e in logs if e["event"] == "item written"] == [
        ("item written", 1), ("item written", 2)]


def test_a_batch_of_new_mails_takes_four_statements_a_mail_and_a_few_for_the_batch(sessions) -> None:  # type: ignore[no-untyped-def]
    """Duplicates, users and contacts are read for the batch at once, and no savepoint is taken: a new
    mail writes its contact, its number, its item and its row."""
    from sqlalchemy import event

    from tests.support.items import handle

    add_account(sessions)
    handle(sessions, mail())  # the first item of the type also makes its counter
    statements: list[str] = []
    engine = sessions.kw["bind"]

    def listener(conn: Any, cursor: Any, statement: str, *rest: Any) -> None:
        statements.append(statement)

    event.listen(engine, "before_cursor_execute", listener)
    try:
        results = ItemWriter(sessions).handle_batch([mail(sender=f"s{i}@customer.example") for i in range(8)])
    finally:
        event.remove(engine, "before_cursor_execute", listener)
    assert _changes(results) == ["created"] * 8
    per_batch = 10  # the account, the catalog's 3 tables, customers, the project, the 3 reads above, SQLite's BEGIN
    assert len(statements) <= 4 * 8 + per_batch, statements
    assert not [s for s in statements if "SAVEPOINT" in s]
