"""Faults in the middle of the stream: killed services, a mail that always fails."""

from __future__ import annotations

import json
import time

from shared.broker.port import H_REASON, H_STAGE
from shared.broker.topology import Topology
from shared.contracts import BlobRef
from shared.runner import to_outgoing
from tests.e2e.conftest import Pipeline, mail
from tests.support.broker_admin import TEST_RETRY_DELAYS, get_all
from tests.support.pipeline import fetched
from tests.support.waiting import wait_for

MAILS = 30


def test_killing_each_service_mid_stream_and_starting_it_again_loses_and_duplicates_nothing(
        pipeline: Pipeline) -> None:
    for n in range(MAILS):
        # One sender each: the loop governor caps auto-replies per recipient (10 in 10 minutes).
        pipeline.drop(mail(f"Request {n}", message_id=f"<req-{n}@example.com>", sender=f"user{n}@example.com"))
    killed_notifier = 0
    for name in ("parser", "itemwriter", "notifier", "fetcher"):
        # Let some work through, then kill -9 the stage mid-stream and bring it back.
        before = len(pipeline.items())
        wait_for(lambda: len(pipeline.items()) > before or len(pipeline.items()) == MAILS, timeout=20,  # noqa: B023
                 what="progress before the kill")
        pipeline.kill(name)
        killed_notifier += name == "notifier"
        time.sleep(0.3)  # the fault lasts a moment: work piles up behind the dead stage
        pipeline.start(name)
    items = pipeline.wait_items(MAILS, timeout=60)
    assert sorted(i["title"] for i in items) == sorted(f"Request {n}" for n in range(MAILS))
    assert len({i["number"] for i in items}) == MAILS
    assert pipeline.inbound_mails() == MAILS
    wait_for(lambda: len({r.message["Message-ID"] for r in pipeline.smtp.received}) == MAILS, timeout=30,
             what="one auto-reply per mail")
    # The only duplicate SMTP allows: accepted by the server, then killed before it was recorded;
    # it carries the same Message-ID, so clients collapse it.
    assert len(pipeline.smtp.received) <= MAILS + killed_notifier
    replied_to = sorted(r.message["In-Reply-To"] for r in pipeline.smtp.received)
    assert sorted(set(replied_to)) == sorted(f"<req-{n}@example.com>" for n in range(MAILS))


def test_a_mail_that_always_fails_ends_in_the_dead_letter_queue_with_its_reason_while_the_rest_flow(
        pipeline: Pipeline, amqp_url: str, namespace: str) -> None:
    # A fetched mail whose raw bytes are missing from the store: the parser cannot ever handle it.
    from shared.broker.kombu_broker import KombuBroker

    topology = Topology(namespace=namespace, retry_delays=TEST_RETRY_DELAYS)
    broker = KombuBroker(amqp_url, topology)
    broker.declare()
    poison = fetched("poison-1").payload.model_copy(update={"raw": BlobRef(key="sha256:" + "f" * 64, size=5,
                                                                           sha256="f" * 64)})
    from shared.contracts import Envelope

    broker.publish([to_outgoing(Envelope.first(poison))])
    broker.close()
    pipeline.drop(mail("Behind the poison", message_id="<behind@example.com>"))
    pipeline.wait_items(1)
    dead = wait_for(lambda: get_all(amqp_url, topology.dead_letter_queue("parser")), timeout=20,
                    what="the dead letter")
    body, headers = dead[0]
    assert json.loads(body)["payload"]["source_id"] == "poison-1"
    assert headers[H_STAGE] == "parser"
    assert "retries exhausted" in headers[H_REASON] and "not in the store" in headers[H_REASON]
