"""The runner's outcomes become the same broker actions on the in-memory broker and on RabbitMQ."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any, ClassVar

import pytest

from shared.broker.memory import MemoryBroker
from shared.broker.port import H_ATTEMPTS, H_EXCEPTION, H_REASON, H_STAGE, Outgoing
from shared.broker.topology import Topology
from shared.contracts import Envelope, MailParsed
from shared.contracts.envelope import Contract
from shared.errors import Reject, RetryLater
from shared.runner import to_outgoing
from tests.support.broker_admin import TEST_RETRY_DELAYS
from tests.support.pipeline import consuming, fetched
from tests.support.waiting import wait_for

MAX_RETRIES = 2


class Harness:
    def __init__(self, broker: Any, topology: Topology, amqp_url: str | None) -> None:
        self.broker, self.topology, self.amqp_url = broker, topology, amqp_url

    def dead_letters(self, consumer: str) -> list[tuple[bytes, dict]]:
        return self.messages(self.topology.dead_letter_queue(consumer))

    def messages(self, queue: str) -> list[tuple[bytes, dict]]:
        """Every message of ``queue`` (taken from it on RabbitMQ)."""
        if self.amqp_url is None:
            return self.broker.messages(queue)
        from tests.support.broker_admin import get_all

        return get_all(self.amqp_url, queue)

    def depth(self, queue: str) -> int:
        if self.amqp_url is None:
            return self.broker.depth(queue)
        from tests.support.broker_admin import queue_depth

        return queue_depth(self.amqp_url, queue)


@pytest.fixture(params=["memory", "rabbitmq"])
def harness(request: pytest.FixtureRequest) -> Iterator[Harness]:
    if request.param == "memory":
        topology = Topology(retry_delays=TEST_RETRY_DELAYS)
        broker = MemoryBroker(topology)
        amqp_url = None
    else:
        from shared.broker.kombu_broker import KombuBroker

        amqp_url = request.getfixturevalue("amqp_url")
        topology = Topology(namespace=request.getfixturevalue("namespace"), retry_delays=TEST_RETRY_DELAYS)
        broker = KombuBroker(amqp_url, topology, prefetch=4)
    broker.declare()
    yield Harness(broker, topology, amqp_url)
    broker.close()


def _parsed_from(envelope: Envelope[Any]) -> Envelope[Any]:
    p = envelope.payload
    return envelope.follow(MailParsed(account=p.account, source_id=p.source_id, raw=p.raw, message_id=None,
                                      date=None, subject="s", **{"from": None}))


def test_a_handled_message_publishes_its_outputs_before_it_is_acked(harness: Harness) -> None:
    seen: list[str] = []

    def handler(env: Envelope[Any]) -> list[Envelope[Any]]:
        seen.append(env.payload.source_id)
        return [_parsed_from(env)]

    with consuming(harness.broker, "parser", handler, max_retries=MAX_RETRIES, retry_step=harness.topology.retry_step):
        harness.broker.publish([to_outgoing(fetched("one"))])
        wait_for(lambda: harness.depth(harness.topology.queue("itemwriter")) == 1, what="the output published")
    assert seen == ["one"]
    assert harness.depth(harness.topology.queue("parser")) == 0


def test_a_message_whose_handler_always_fails_ends_in_the_dead_letter_queue_while_the_rest_flow(
        harness: Harness) -> None:
    calls: dict[str, int] = {}

    def handler(env: Envelope[Any]) -> list[Envelope[Any]]:
        sid = env.payload.source_id
        calls[sid] = calls.get(sid, 0) + 1
        if sid == "poison":
            raise ValueError("cannot handle this one")
        return []

    with consuming(harness.broker, "parser", handler, max_retries=MAX_RETRIES, retry_step=harness.topology.retry_step):
        harness.broker.publish([to_outgoing(fetched(s)) for s in ("before", "poison", "after")])
        wait_for(lambda: calls.get("after") == 1 and calls.get("before") == 1, what="the healthy messages")
        dead = wait_for(lambda: harness.dead_letters("parser"), timeout=15, what="the dead letter")
    assert calls["poison"] == MAX_RETRIES + 1
    assert len(dead) == 1
    body, headers = dead[0]
    assert json.loads(body)["payload"]["source_id"] == "poison"
    assert headers[H_STAGE] == "parser"
    assert "retries exhausted" in headers[H_REASON] and "cannot handle this one" in headers[H_REASON]
    assert "ValueError" in headers[H_EXCEPTION]
    assert headers[H_ATTEMPTS] == MAX_RETRIES + 1


def test_a_transient_failure_is_retried_from_the_retry_queue_and_then_succeeds(harness: Harness) -> None:
    attempts: list[int] = []

    def handler(env: Envelope[Any]) -> list[Envelope[Any]]:
        attempts.append(env.attempt)
        if len(attempts) == 1:
            raise RetryLater("the database is restarting")
        return []

    with consuming(harness.broker, "parser", handler, max_retries=MAX_RETRIES, retry_step=harness.topology.retry_step):
        harness.broker.publish([to_outgoing(fetched("flaky"))])
        wait_for(lambda: len(attempts) == 2, what="the retry")
    assert attempts == [0, 1]
    assert harness.dead_letters("parser") == []


def test_a_rejected_message_goes_straight_to_the_dead_letter_queue(harness: Harness) -> None:
    calls: list[str] = []

    def handler(env: Envelope[Any]) -> list[Envelope[Any]]:
        calls.append(env.payload.source_id)
        raise Reject("this mail is 90 MB, over the limit")

    with consuming(harness.broker, "parser", handler, max_retries=MAX_RETRIES, retry_step=harness.topology.retry_step):
        harness.broker.publish([to_outgoing(fetched("huge"))])
        dead = wait_for(lambda: harness.dead_letters("parser"), what="the dead letter")
    assert calls == ["huge"]
    assert "rejected: this mail is 90 MB" in dead[0][1][H_REASON]


def test_an_undecodable_body_goes_to_the_dead_letter_queue_as_it_was(harness: Harness) -> None:
    def handler(env: Envelope[Any]) -> list[Envelope[Any]]:
        raise AssertionError("never called for a body that is not an envelope")

    with consuming(harness.broker, "parser", handler, max_retries=MAX_RETRIES, retry_step=harness.topology.retry_step):
        harness.broker.publish([Outgoing(routing_key="mail.fetched.v1", body=b"\xff not json",
                                         message_id="m1", correlation_id="c1")])
        dead = wait_for(lambda: harness.dead_letters("parser"), what="the dead letter")
    assert dead[0][0] == b"\xff not json"
    assert dead[0][1][H_REASON].startswith("undecodable")


def test_publishing_a_message_no_queue_is_bound_to_fails_loudly(harness: Harness) -> None:
    from shared.broker.port import PublishFailed

    with pytest.raises(PublishFailed, match="unroutable"):
        harness.broker.publish([Outgoing(routing_key="nobody.listens.v1", body=b"{}", message_id="m",
                                         correlation_id="c")])


def _source_ids(messages: list[tuple[bytes, dict]]) -> list[str]:
    return sorted(json.loads(body)["payload"]["source_id"] for body, _ in messages)


class BatchParser:
    """A batch handler: every mail parsed in one unit of work, except "poison" (rejected) and "flaky"
    (fails once); with ``whole_batch_fails``, a batch of more than one fails as a whole."""

    def __init__(self, whole_batch_fails: bool = False) -> None:
        self.whole_batch_fails = whole_batch_fails
        self.batches: list[list[str]] = []
        self.alone: list[str] = []
        self.calls: dict[str, int] = {}

    def __call__(self, env: Envelope[Any]) -> list[Envelope[Any]]:
        self.alone.append(env.payload.source_id)
        result = self._one(env)
        if isinstance(result, Exception):
            raise result
        return result

    def handle_batch(self, envs: list[Envelope[Any]]) -> list[list[Envelope[Any]] | Exception]:
        self.batches.append([e.payload.source_id for e in envs])
        if self.whole_batch_fails and len(envs) > 1:
            raise RuntimeError("the batch's transaction did not commit")
        return [self._one(e) for e in envs]

    def _one(self, env: Envelope[Any]) -> list[Envelope[Any]] | Exception:
        sid = env.payload.source_id
        self.calls[sid] = self.calls.get(sid, 0) + 1
        if sid == "poison":
            return Reject("not a mail at all")
        if sid == "flaky" and self.calls[sid] == 1:
            return RetryLater("the database is restarting")
        return [_parsed_from(env)]


def test_a_poison_message_in_a_batch_is_dead_lettered_while_its_batch_mates_are_published_once(
        harness: Harness) -> None:
    """One rejected and one transient failure in a batch: the rest are handled once and published once."""
    names = ["a", "b", "poison", "flaky", "c", "d", "e"]
    handler = BatchParser()
    harness.broker.publish([to_outgoing(fetched(s)) for s in names])
    work = harness.topology.queue("itemwriter")
    with consuming(harness.broker, "parser", handler, max_retries=MAX_RETRIES,
                   retry_step=harness.topology.retry_step, batch=8):
        wait_for(lambda: harness.depth(work) == len(names) - 1, what="the outputs of the healthy messages")
        dead = wait_for(lambda: harness.dead_letters("parser"), what="the dead letter")
    assert _source_ids(harness.messages(work)) == sorted(set(names) - {"poison"})
    assert [json.loads(body)["payload"]["source_id"] for body, _ in dead] == ["poison"]
    assert "rejected: not a mail at all" in dead[0][1][H_REASON]
    assert handler.calls == {**dict.fromkeys(names, 1), "flaky": 2}
    assert harness.depth(harness.topology.queue("parser")) == 0
    if harness.amqp_url is None:  # what arrives when on RabbitMQ is up to the network
        assert handler.batches[0] == names


def test_a_batch_that_fails_as_a_whole_is_handled_again_message_by_message(harness: Harness) -> None:
    """Nothing of a failed batch is published; each message then goes alone and succeeds."""
    names = ["a", "b", "c", "d"]
    handler = BatchParser(whole_batch_fails=True)
    harness.broker.publish([to_outgoing(fetched(s)) for s in names])
    work = harness.topology.queue("itemwriter")
    with consuming(harness.broker, "parser", handler, max_retries=MAX_RETRIES,
                   retry_step=harness.topology.retry_step, batch=8):
        wait_for(lambda: harness.depth(work) == len(names), what="every output")
    assert _source_ids(harness.messages(work)) == names
    assert harness.dead_letters("parser") == []
    if harness.amqp_url is None:
        assert handler.batches == [names] and handler.alone == names


def test_an_unroutable_message_fails_only_its_own_group_of_a_publish(harness: Harness) -> None:
    """Confirms are awaited once for all groups; a mandatory return fails the group it belongs to."""
    def group(*names: str) -> list[Outgoing]:
        return [to_outgoing(fetched(n)) for n in names]

    lost = Outgoing(routing_key="nobody.listens.v1", body=b"{}", message_id="m-lost", correlation_id="c")
    results = harness.broker.publish_groups([group("a", "b"), [*group("c"), lost], group("d"), []])
    assert [type(r).__name__ for r in results] == ["NoneType", "PublishFailed", "NoneType", "NoneType"]
    assert "unroutable" in str(results[1])
    parser = harness.topology.queue("parser")
    wait_for(lambda: harness.depth(parser) >= 3, what="the routed messages")
    # "c" may be in the queue (RabbitMQ routes each message on its own): the runner leaves its
    # delivery unsettled and the redelivery publishes it again, which consumers deduplicate.
    assert {"a", "b", "d"} <= set(_source_ids(harness.messages(parser)))


class _Orphaned(Contract):
    """A payload no queue is bound to: publishing it is refused (``mandatory``)."""

    ROUTING_KEY: ClassVar[str] = "nobody.listens.v1"


def test_a_message_whose_outputs_were_not_published_is_redelivered_while_its_batch_mates_are_acked(
        harness: Harness) -> None:
    """The batch's successes are acked together, never sweeping up a batch-mate left unsettled."""
    if harness.amqp_url is None:
        pytest.skip("redelivery after a lost publish is the real broker's")
    seen: list[str] = []

    def handler(env: Envelope[Any]) -> list[Envelope[Any]]:
        name = env.payload.source_id
        seen.append(name)
        if name == "orphan" and seen.count(name) == 1:  # its first outputs cannot be routed
            return [env.follow(_Orphaned())]
        return [_parsed_from(env)]

    names = ["a", "b", "c", "d", "e", "f"]
    # Right behind the first message: the next batch holds it and successes after it.
    harness.broker.publish([to_outgoing(fetched(n)) for n in [names[0], "orphan", *names[1:]]])
    with consuming(harness.broker, "parser", handler, max_retries=MAX_RETRIES,
                   retry_step=harness.topology.retry_step, batch=8):
        wait_for(lambda: seen.count("orphan") == 2 and set(names) <= set(seen), timeout=15,
                 what="the unsettled message redelivered, the others handled")
    assert sorted(n for n in seen if n != "orphan") == names  # each acked once: none redelivered
    outputs = _source_ids(harness.messages(harness.topology.queue("itemwriter")))
    assert sorted(outputs) == sorted(["orphan", *names])
