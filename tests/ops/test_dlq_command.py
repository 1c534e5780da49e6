"""``postroom dlq`` against the real RabbitMQ, on dead letters produced by the real runner."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from typing import Any

import pika
import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from shared.broker.admin import connection_parameters
from shared.broker.port import Outgoing
from shared.contracts import Envelope
from shared.db.models import Item
from shared.errors import Reject, RetryLater
from shared.runner import to_outgoing
from shared.store import FilesystemBlobStore
from tests.ops.conftest import MAX_RETRIES, Ops
from tests.support.broker_admin import queue_depth
from tests.support.cli import postroom
from tests.support.items import TEST_SECRET, add_account
from tests.support.pipeline import consuming, fetched
from tests.support.waiting import wait_for

RAW = b"From: ada@example.com\r\nSubject: Printer on fire\r\n\r\nIt is really on fire.\r\n"


class Stage:
    """A parser handler that fails as told until it is healed, counting every call."""

    def __init__(self) -> None:
        self.healed = False
        self.calls: list[tuple[str, int, bool]] = []

    def __call__(self, env: Envelope[Any]) -> list[Envelope[Any]]:
        sid = env.payload.source_id
        self.calls.append((sid, env.attempt, self.healed))
        if not self.healed and sid.startswith("bad"):
            raise Reject(f"cannot parse {sid}")
        if not self.healed and sid.startswith("tired"):
            raise RetryLater(f"the store is away for {sid}")
        return []

    def healed_calls(self) -> list[tuple[str, int]]:
        return sorted((sid, attempt) for sid, attempt, healed in self.calls if healed)


def dlq_depth(ops: Ops) -> int:
    return queue_depth(ops.amqp_url, ops.topology.dead_letter_queue("parser"))


def dlq_settles_at(ops: Ops, depth: int) -> bool:
    """The DLQ's depth becomes ``depth`` within seconds. A quorum queue applies a letter given back
    (nack with requeue) through its log, after the channel that gave it back has closed, so a count
    read at once may miss it."""
    deadline = time.monotonic() + 5
    while dlq_depth(ops) != depth:
        if time.monotonic() > deadline:
            return False
        time.sleep(0.05)
    return True


def dead_letter(ops: Ops, stage: Stage, messages: list[Outgoing]) -> None:
    """Publish ``messages`` and run the real runner until each of them is in the parser's DLQ."""
    before = dlq_depth(ops)
    with consuming(ops.broker, "parser", stage, max_retries=MAX_RETRIES, retry_step=ops.topology.retry_step):
        ops.broker.publish(messages)
        wait_for(lambda: dlq_depth(ops) == before + len(messages), timeout=15, what="the dead letters")


def listed(ops: Ops) -> list[dict[str, Any]]:
    result = postroom(ops.env, "dlq", "list", "--json")
    assert result.exit_code == 0, result.output
    return json.loads(result.output)


def test_dlq_list_and_show_tell_why_each_letter_died_and_reading_them_loses_none(ops: Ops) -> None:
    raw_ref = FilesystemBlobStore(ops.store_dir).put(RAW)
    bad = Envelope.first(fetched("bad-1").payload.model_copy(update={"raw": raw_ref}))
    tired = fetched("tired-1")
    junk = Outgoing(routing_key="mail.fetched.v1", body=b"\xff not json", message_id="j", correlation_id="j")
    dead_letter(ops, Stage(), [to_outgoing(bad), to_outgoing(tired), junk])

    first, second = listed(ops), listed(ops)
    assert [r["id"] for r in first] == [r["id"] for r in second]  # stable ids, and nothing lost by reading
    assert dlq_settles_at(ops, 3)
    rows = {r["id"]: r for r in first}
    assert set(rows) == {bad.message_id, tired.message_id, next(i for i in rows if i.startswith("body-"))}
    assert (rows[bad.message_id]["stage"], rows[bad.message_id]["attempts"]) == ("parser", 1)
    assert rows[bad.message_id]["reason"] == "rejected: cannot parse bad-1"
    assert rows[bad.message_id]["exception"].startswith("shared.errors.Reject: cannot parse bad-1")
    assert rows[tired.message_id]["attempts"] == MAX_RETRIES + 1
    assert rows[tired.message_id]["reason"].startswith("retries exhausted: the store is away")
    junk_row = next(r for r in first if r["id"].startswith("body-"))
    assert junk_row["reason"].startswith("undecodable") and not junk_row["decodable"]

    text = postroom(ops.env, "dlq", "list", "--stage", "parser").output
    assert bad.message_id in text and "3 dead letter(s)" in text
    shown = postroom(ops.env, "dlq", "show", bad.message_id[:8])
    assert shown.exit_code == 0, shown.output
    assert f"raw:             {raw_ref.key}" in shown.output and "rejected: cannot parse bad-1" in shown.output
    raw = postroom(ops.env, "dlq", "show", bad.message_id, "--raw")
    assert raw.stdout_bytes == RAW
    assert dlq_settles_at(ops, 3)


@pytest.fixture
def spy_queue(ops: Ops) -> Iterator[str]:
    """A second queue bound to mail.fetched.v1, as another consumer of the same events would be."""
    name = f"{ops.topology.namespace}spy.mail.fetched"
    conn = pika.BlockingConnection(connection_parameters(ops.amqp_url))
    channel = conn.channel()
    channel.queue_declare(name, durable=True, arguments={"x-queue-type": "quorum"})
    channel.queue_bind(name, ops.topology.exchange, "mail.fetched.v1")
    yield name
    channel.queue_delete(name)
    conn.close()


def test_a_replayed_dead_letter_is_handled_once_by_the_failed_consumer_alone_and_leaves_the_dlq(
        ops: Ops, spy_queue: str) -> None:
    stage = Stage()
    letters = [fetched("bad-1"), fetched("bad-2"), fetched("tired-1")]
    dead_letter(ops, stage, [to_outgoing(e) for e in letters])
    assert queue_depth(ops.amqp_url, spy_queue) == 3  # the spy got the originals

    stage.healed = True
    with consuming(ops.broker, "parser", stage, max_retries=MAX_RETRIES, retry_step=ops.topology.retry_step):
        one = postroom(ops.env, "dlq", "replay", letters[0].message_id)
        assert one.exit_code == 0, one.output
        assert f"replayed {letters[0].message_id} to {ops.topology.queue('parser')}" in one.output
        wait_for(lambda: stage.healed_calls() == [("bad-1", 0)], what="the replayed letter handled")
        assert dlq_settles_at(ops, 2)
        rest = postroom(ops.env, "dlq", "replay", "--all", "--stage", "parser")
        assert rest.exit_code == 0 and "2 dead letter(s) replayed" in rest.output, rest.output
        wait_for(lambda: len(stage.healed_calls()) == 3, what="the other replayed letters handled")
    # Once each, from attempt 0 (the retried one had used up its ladder), and no one else got them.
    assert stage.healed_calls() == [("bad-1", 0), ("bad-2", 0), ("tired-1", 0)]
    assert dlq_settles_at(ops, 0)
    assert queue_depth(ops.amqp_url, ops.topology.queue("parser")) == 0
    assert queue_depth(ops.amqp_url, spy_queue) == 3


def test_a_letter_dead_lettered_twice_is_listed_replayed_and_discarded_once(ops: Ops) -> None:
    """A consumer killed between dead-lettering a message and acking it gets it again and
    dead-letters it a second time: the operator still sees one letter, and settles every copy."""
    stage = Stage()
    twice, discarded, once = fetched("bad-1"), fetched("bad-2"), fetched("bad-3")
    dead_letter(ops, stage, [to_outgoing(e) for e in (twice, twice, discarded, discarded, once)])
    assert dlq_depth(ops) == 5

    rows = {r["id"]: r for r in listed(ops)}
    assert sorted(rows) == sorted(e.message_id for e in (twice, discarded, once))
    assert [rows[e.message_id]["copies"] for e in (twice, discarded, once)] == [2, 2, 1]
    text = postroom(ops.env, "dlq", "list").output
    assert "3 dead letter(s)" in text and text.count("(2 copies)") == 2, text
    shown = postroom(ops.env, "dlq", "show", twice.message_id).output
    assert "copies:          2 (dead-lettered again" in shown, shown
    assert dlq_settles_at(ops, 5)  # reading settles nothing

    gone = postroom(ops.env, "dlq", "discard", discarded.message_id, "--yes")
    assert gone.exit_code == 0, gone.output
    assert dlq_settles_at(ops, 3)
    stage.healed = True
    with consuming(ops.broker, "parser", stage, max_retries=MAX_RETRIES, retry_step=ops.topology.retry_step):
        done = postroom(ops.env, "dlq", "replay", "--all", "--stage", "parser")
        assert done.exit_code == 0 and "2 dead letter(s) replayed" in done.output, done.output
        wait_for(lambda: len(stage.healed_calls()) == 2, what="the replayed letters handled")
        time.sleep(0.5)  # a second replay of the copy would arrive now
    assert stage.healed_calls() == [("bad-1", 0), ("bad-3", 0)]
    assert dlq_settles_at(ops, 0)


def test_discard_removes_exactly_one_dead_letter_and_only_once_confirmed(ops: Ops) -> None:
    letters = [fetched(f"bad-{n}") for n in range(3)]
    dead_letter(ops, Stage(), [to_outgoing(e) for e in letters])
    victim = letters[1].message_id

    declined = postroom(ops.env, "dlq", "discard", victim, input="n\n")
    assert declined.exit_code != 0 and dlq_settles_at(ops, 3)
    unknown = postroom(ops.env, "dlq", "discard", "no-such-letter", "--yes")
    assert unknown.exit_code != 0 and "no dead letter" in unknown.output and dlq_settles_at(ops, 3)

    done = postroom(ops.env, "dlq", "discard", victim[:8], input="y\n")
    assert done.exit_code == 0 and f"discarded {victim}" in done.output, done.output
    assert dlq_settles_at(ops, 2)
    assert sorted(r["id"] for r in listed(ops)) == sorted(e.message_id for e in (letters[0], letters[2]))
    unasked = postroom(ops.env, "dlq", "discard", letters[0].message_id, "--yes")
    assert unasked.exit_code == 0 and dlq_settles_at(ops, 1)
    assert [r["id"] for r in listed(ops)] == [letters[2].message_id]


def test_dlq_preview_says_what_a_replay_would_do_to_the_mail_and_changes_nothing(
        ops: Ops, database_url: str, sessions: sessionmaker[Session]) -> None:
    add_account(sessions, "demo")
    raw_ref = FilesystemBlobStore(ops.store_dir).put(RAW)
    bad = Envelope.first(fetched("bad-1").payload.model_copy(update={"raw": raw_ref}))
    notice = fetched("bad-2")  # its raw mail is not in the store
    dead_letter(ops, Stage(), [to_outgoing(bad), to_outgoing(notice)])
    env = {**ops.env, "DATABASE_URL": database_url, "POSTROOM_TOKEN_SECRET": TEST_SECRET}

    shown = postroom(env, "dlq", "preview", bad.message_id[:8])
    assert shown.exit_code == 0, shown.output
    assert "if replayed: would create incident #1 'Printer on fire'" in shown.output
    assert "decision: CREATE" in shown.output
    full = postroom(env, "dlq", "show", bad.message_id, "--preview", "--json")
    assert json.loads(full.output)["preview"]["change"] == "created"
    gone = postroom(env, "dlq", "preview", notice.message_id)
    assert gone.exit_code == 1 and "no longer in the blob store" in gone.output
    with sessions() as session:
        assert session.scalar(select(func.count()).select_from(Item)) == 0
    assert dlq_settles_at(ops, 2)
