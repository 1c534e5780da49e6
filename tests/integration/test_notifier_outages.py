"""The notifier through outages, on RabbitMQ, PostgreSQL and aiosmtpd: an SMTP server away is waited
out (a capped backoff on the outage rungs, up to the longest a send may wait), and a database out of
reach after a send is waited for, so that every mail goes exactly once.

The durations are scaled by the settings: the outage rungs are ``TEST_OUTAGE_DELAYS`` (cap 1 s)
instead of 5 s … 3 min, so an outage of 15 caps stands for the 15 minutes of a real one."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.engine import make_url

from services.app.actors import OPERATOR
from services.app.pending_sends import pending_sends
from shared.broker.kombu_broker import KombuBroker
from shared.broker.topology import Topology
from shared.db.engine import make_engine, make_sessionmaker, normalize_url
from shared.db.models import OutboundMail
from shared.runner import to_outgoing
from tests.integration.test_notifier import event, handler_for, item_id  # noqa: F401 (item_id: a fixture)
from tests.support.broker_admin import TEST_OUTAGE_DELAYS, TEST_RETRY_DELAYS, get_all, queue_depth
from tests.support.pipeline import consuming
from tests.support.servers import free_port
from tests.support.smtp import RecordingHandler
from tests.support.tcpforward import TcpForwarder
from tests.support.waiting import wait_for

CAP = TEST_OUTAGE_DELAYS[-1]
NO_CAPS = {"cap_per_item": "1000/10m", "cap_per_recipient": "1000/10m"}  # one item, many events: not a loop
MAX_RETRIES = 2  # the retry ladder alone would dead-letter a mail after 3 tries, 0.2 s + 0.5 s apart

postgres_only = pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)


@dataclass
class World:
    topology: Topology
    broker: KombuBroker
    amqp_url: str

    def publish(self, envelopes: list[Any]) -> None:
        self.broker.publish([to_outgoing(e) for e in envelopes])

    def idle(self) -> bool:
        """Nothing waits in the notifier's work queue nor on any rung."""
        return all(queue_depth(self.amqp_url, d.name) == 0 for d in self.topology.declarations()
                   if d.name.startswith(self.topology.queue("notifier")) and not d.name.endswith(".dlq"))

    def dead_letters(self) -> list[tuple[bytes, dict]]:
        return get_all(self.amqp_url, self.topology.dead_letter_queue("notifier"))


@pytest.fixture
def world(amqp_url: str, namespace: str) -> Iterator[World]:
    topology = Topology(namespace=namespace, retry_delays=TEST_RETRY_DELAYS, outage_delays=TEST_OUTAGE_DELAYS)
    broker = KombuBroker(amqp_url, topology, prefetch=16)
    broker.declare()
    yield World(topology, broker, amqp_url)
    broker.close()


def _consume(world: World, handler: Any) -> Any:
    return consuming(world.broker, "notifier", handler, max_retries=MAX_RETRIES, retry_step=world.topology.retry_step,
                     outage_step=world.topology.outage_step, batch=8)


def _rows(sessions: Any) -> list[OutboundMail]:
    with sessions() as s:
        return list(s.scalars(select(OutboundMail).order_by(OutboundMail.id)))


def _smtp() -> tuple[RecordingHandler, int, Any]:
    from aiosmtpd.controller import Controller

    server, port = RecordingHandler(), free_port()
    controller = Controller(server, hostname="127.0.0.1", port=port)
    controller.start()
    return server, port, controller


@postgres_only
def test_an_smtp_outage_of_15_caps_loses_and_duplicates_nothing_and_the_backlog_goes_within_a_cap(
        sessions: Any, item_id: int, world: World) -> None:  # noqa: F811
    """15 minutes of a real outage with its 3-minute cap, scaled: 15 s with a cap of 1 s. Mail arriving
    before and during the outage waits on the outage rungs past the retry count (no dead letter), each
    goes once when the server returns, within about a cap."""
    server, smtp_port, controller = _smtp()
    front = free_port()  # the notifier's SMTP server: a forwarder cut for the outage
    forwarder = TcpForwarder(front, ("127.0.0.1", smtp_port))
    handler = handler_for(sessions, front, **NO_CAPS)
    try:
        with _consume(world, handler):
            world.publish([event(item_id, sender=f"before{i}@example.com") for i in range(3)])
            wait_for(lambda: len(server.received) == 3, timeout=10, what="mail before the outage")
            forwarder.close()
            down_at = time.monotonic()
            for minute in range(3):  # mail keeps arriving during the outage
                world.publish([event(item_id, sender=f"during{minute}-{i}@example.com") for i in range(4)])
                time.sleep(5 * CAP)
            assert len(server.received) == 3
            pending = [r for r in _rows(sessions) if r.status == "pending"]
            assert len(pending) == 12 and all(r.attempts > MAX_RETRIES + 1 for r in pending[:4])
            assert all("SMTP" in r.reason and r.next_attempt_at is not None for r in pending)
            assert time.monotonic() - down_at >= 15 * CAP
            forwarder = TcpForwarder(front, ("127.0.0.1", smtp_port))
            back_at = time.monotonic()
            wait_for(lambda: len(server.received) == 15, timeout=10, what="the backlog")
            backlog_seconds = time.monotonic() - back_at
            wait_for(world.idle, timeout=10, what="the notifier's queues empty")
        assert backlog_seconds <= CAP + 2.0, backlog_seconds
        recipients = [r.rcpt_tos[0] for r in server.received]
        assert sorted(recipients) == sorted(set(recipients)) and len(recipients) == 15  # each once
        assert {r.status for r in _rows(sessions)} == {"sent"}
        assert world.dead_letters() == []
    finally:
        forwarder.close()
        controller.stop()


@postgres_only
def test_a_send_that_waits_longer_than_the_max_send_age_is_recorded_failed_and_never_goes_later(
        sessions: Any, item_id: int, world: World) -> None:  # noqa: F811
    from prometheus_client import REGISTRY

    def given_up() -> float:
        return REGISTRY.get_sample_value("postroom_outbound_given_up_total", {"kind": "auto-reply"}) or 0.0

    before = given_up()
    server, smtp_port, controller = _smtp()
    front = free_port()
    handler = handler_for(sessions, front, max_send_age=timedelta(seconds=3 * CAP))
    forwarder = None
    try:
        with _consume(world, handler):
            world.publish([event(item_id, sender="ada@example.com")])
            wait_for(lambda: [r.status for r in _rows(sessions)] == ["failed"], timeout=15, what="the send given up")
            forwarder = TcpForwarder(front, ("127.0.0.1", smtp_port))
            wait_for(world.idle, timeout=10, what="the notifier's queues empty")
            time.sleep(2 * CAP)
        [row] = _rows(sessions)
        assert row.reason.startswith("not sent within 3 s of the first attempt: SMTP: ConnectionRefusedError")
        assert row.next_attempt_at is None and row.sent_at is None
        assert server.received == [] and world.dead_letters() == []
        assert given_up() == before + 1
        with sessions() as session:
            failed = pending_sends(session, OPERATOR, status="failed")
            assert pending_sends(session, OPERATOR)["total"] == 0
        assert failed["total"] == 1 and failed["sends"][0]["last_error"] == row.reason
    finally:
        if forwarder is not None:
            forwarder.close()
        controller.stop()


class CuttingHandler(RecordingHandler):
    """Accepts every mail; right after accepting the ``cut_at``-th, cuts the notifier's database for
    ``seconds`` (the server's answer is on its way while the completion finds the database gone)."""

    def __init__(self, cut: Any, cut_at: int) -> None:
        super().__init__()
        self.cut, self.cut_at = cut, cut_at

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802
        answer = await super().handle_DATA(server, session, envelope)
        if len(self.received) == self.cut_at:
            self.cut()
        return answer


@postgres_only
def test_a_database_outage_in_the_middle_of_a_batch_sends_each_mail_once(
        database_url: str, sessions: Any, item_id: int, world: World) -> None:  # noqa: F811
    """A 30 s outage scaled to 6 s (nothing in the handling depends on its length but the waits between
    the completion's tries, 5 s at most): the completion of the mail in flight is written once the
    database is back, the event is not retried into a second send, and the rest of the batch follows."""
    from aiosmtpd.controller import Controller

    pg = make_url(normalize_url(database_url))
    front = free_port()
    forwarders = [TcpForwarder(front, (pg.host or "127.0.0.1", pg.port or 5432))]
    outage = 6.0
    restored = threading.Event()

    def cut() -> None:
        forwarders[0].close()

        def restore() -> None:
            forwarders.append(TcpForwarder(front, (pg.host or "127.0.0.1", pg.port or 5432)))
            restored.set()
        threading.Timer(outage, restore).start()

    server, smtp_port = CuttingHandler(cut, cut_at=3), free_port()
    controller = Controller(server, hostname="127.0.0.1", port=smtp_port)
    controller.start()
    engine = make_engine(pg.set(port=front).render_as_string(hide_password=False))
    through_forwarder = make_sessionmaker(engine)
    try:
        with _consume(world, handler_for(through_forwarder, smtp_port, **NO_CAPS)):
            world.publish([event(item_id, sender=f"u{i}@example.com") for i in range(8)])
            assert restored.wait(30), "the database was not cut"
            wait_for(lambda: len(server.received) >= 8 and world.idle(), timeout=30, what="every mail")
            time.sleep(1.0)  # a redelivery would have sent again by now
        recipients = [r.rcpt_tos[0] for r in server.received]
        assert sorted(recipients) == [f"u{i}@example.com" for i in range(8)]  # each once
        assert [r.status for r in _rows(sessions)] == ["sent"] * 8
        assert world.dead_letters() == []
    finally:
        engine.dispose()
        for f in forwarders:
            f.close()
        controller.stop()


def test_postroom_outbox_lists_the_sends_waiting_for_the_smtp_server(
        sessions: Any, item_id: int, database_url: str, monkeypatch: pytest.MonkeyPatch) -> None:  # noqa: F811
    import json

    from click.testing import CliRunner

    from services.cli.main import cli

    results = handler_for(sessions, 1).handle_batch([event(item_id, sender=f"u{i}@example.com") for i in range(2)])
    assert [type(r).__name__ for r in results] == ["WaitOut", "WaitOut"]
    monkeypatch.setenv("DATABASE_URL", database_url)
    runner = CliRunner()
    listed = runner.invoke(cli, ["outbox"])
    assert listed.exit_code == 0, listed.output
    lines = listed.output.splitlines()
    assert lines[-1] == "2 pending send(s)"
    assert lines[0].startswith("incident #7") and "u0@example.com" in lines[0] and "attempts 1" in lines[0]
    assert "SMTP: ConnectionRefusedError" in lines[0] and "an earlier send of account support" in lines[1]
    found = json.loads(runner.invoke(cli, ["outbox", "--json", "--limit", "1"]).output)
    assert found["total"] == 2
    [send] = found["sends"]
    assert (send["item"], send["recipient"], send["kind"], send["attempts"]) == (
        {"type": "incident", "number": 7}, "u0@example.com", "auto-reply", 1)
    assert send["first_attempt"] < send["next_attempt"] and send["last_error"].startswith("SMTP: ")
    assert json.loads(runner.invoke(cli, ["outbox", "--json", "--account", "other"]).output) == {
        "total": 0, "sends": []}
    with sessions() as s, s.begin():
        for row in s.scalars(select(OutboundMail)):
            row.status = "sent"
    assert runner.invoke(cli, ["outbox"]).output.strip() == "no pending sends"


def test_a_persons_reply_waits_for_the_smtp_server_then_is_failed_on_its_item_past_the_max_send_age(
        sessions: Any, item_id: int, smtp_server: tuple[RecordingHandler, int]) -> None:  # noqa: F811
    """The age is the reply's first attempt's: moved back in the database instead of waited for."""
    from services.app.replies import delivery
    from shared.db.engine import transaction
    from shared.db.models import Item
    from shared.errors import WaitOut
    from tests.integration.test_loop_breakers import agent_reply

    server, port = smtp_server
    reply = agent_reply(item_id, "A technician is on the way.")
    away = handler_for(sessions, 1, max_send_age=timedelta(hours=1))
    [waiting] = away.handle_batch([reply])
    assert isinstance(waiting, WaitOut) and "ConnectionRefusedError" in str(waiting)
    with sessions() as s:
        item = s.get(Item, item_id)
        assert delivery(s, item, reply.payload.reply_id) == ("sending", "")
    with transaction(sessions) as s:
        for row in s.scalars(select(OutboundMail)):
            row.created_at = row.created_at - timedelta(hours=1)
    assert away.handle_batch([reply]) == [[]]  # settled: given up
    handler_for(sessions, port).handle_batch([reply])  # the server is back: too late, nothing goes
    assert server.received == []
    with sessions() as s:
        state, why = delivery(s, s.get(Item, item_id), reply.payload.reply_id)
    assert state == "failed" and why.startswith("not sent within 1 h of the first attempt: SMTP: ")
