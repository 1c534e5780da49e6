"""What happened to a mail, and the dead letters, through the API: agents read a mail's trace,
only admins see, replay and discard dead letters (from the real runner, on the real RabbitMQ)."""

from __future__ import annotations

from typing import Any

from shared.contracts import Envelope
from shared.errors import Reject
from shared.runner import to_outgoing
from shared.service import topology_from
from tests.api.conftest import Api, customer_mail
from tests.support.broker_admin import queue_depth
from tests.support.pipeline import consuming, fetched
from tests.support.waiting import wait_for


def _refuse(envelope: Envelope[Any]) -> list[Envelope[Any]]:
    raise Reject(f"cannot parse {envelope.payload.source_id}")


def test_an_agent_reads_what_happened_to_a_mail(api: Api, agent: dict[str, str]) -> None:
    number = customer_mail(api, sender="alice@customer.example", subject="Printer on fire")
    shown = api.client.get(f"/api/v1/items/incident/{number}", headers=agent).json()
    trace = api.client.get(f"/api/v1/mails/{shown['mails'][0]['id']}/trace", headers=agent).json()
    assert trace["fetched"]["account"] == "support" and trace["fetched"]["source_id"]
    assert trace["placed"]["item"] == {"type": "incident", "number": number}
    assert trace["placed"]["matched_by"] == "new: no reply signal: new item"
    assert trace["parsed"]["classification"] == "human"
    assert api.client.get("/api/v1/mails/99999/trace", headers=agent).status_code == 404


def test_admins_list_show_replay_and_discard_dead_letters_and_agents_cannot(
        api: Api, admin: dict[str, str], agent: dict[str, str]) -> None:
    topology = topology_from(api.settings)
    dlq, work = topology.dead_letter_queue("parser"), topology.queue("parser")
    first, second = fetched("bad-1"), fetched("bad-2")
    with consuming(api.service.broker, "parser", _refuse, max_retries=1, retry_step=topology.retry_step):
        api.service.broker.publish([to_outgoing(first), to_outgoing(second)])
        wait_for(lambda: queue_depth(api.settings.amqp_url, dlq) == 2, timeout=15, what="two dead letters")
    assert api.client.get("/api/v1/dead-letters", headers=agent).status_code == 403
    listed = api.client.get("/api/v1/dead-letters?stage=parser", headers=admin).json()
    assert {r["id"] for r in listed} == {first.message_id, second.message_id}
    assert all(r["reason"].startswith("rejected: cannot parse bad-") for r in listed)
    shown = api.client.get(f"/api/v1/dead-letters/{first.message_id[:8]}", headers=admin).json()
    assert shown["id"] == first.message_id and shown["stage"] == "parser"
    assert api.client.post(f"/api/v1/dead-letters/{first.message_id}/replay", headers=agent).status_code == 403
    replayed = api.client.post(f"/api/v1/dead-letters/{first.message_id}/replay", headers=admin).json()
    assert replayed == {"replayed": first.message_id, "queue": work}
    wait_for(lambda: queue_depth(api.settings.amqp_url, work) == 1, timeout=10, what="the replayed letter")
    discarded = api.client.delete(f"/api/v1/dead-letters/{second.message_id}", headers=admin).json()
    assert discarded == {"discarded": second.message_id}
    wait_for(lambda: queue_depth(api.settings.amqp_url, dlq) == 0, timeout=10, what="an empty dead-letter queue")
    assert api.client.get("/api/v1/dead-letters?stage=nope", headers=admin).json()["field"] == "stage"


def test_admins_preview_what_a_replay_would_do_and_the_letter_stays(
        api: Api, admin: dict[str, str], agent: dict[str, str]) -> None:
    topology = topology_from(api.settings)
    dlq = topology.dead_letter_queue("parser")
    raw = b"From: alice@customer.example\r\nSubject: Printer on fire\r\n\r\nIt is on fire.\r\n"
    letter = Envelope.first(fetched("bad-1", account="support").payload.model_copy(
        update={"raw": api.service.context.store.put(raw)}))
    with consuming(api.service.broker, "parser", _refuse, max_retries=1, retry_step=topology.retry_step):
        api.service.broker.publish([to_outgoing(letter)])
        wait_for(lambda: queue_depth(api.settings.amqp_url, dlq) == 1, timeout=15, what="the dead letter")
    path = f"/api/v1/dead-letters/{letter.message_id}/preview"
    assert api.client.get(path).status_code == 401
    assert api.client.get(path, headers=agent).status_code == 403
    preview = api.client.get(path, headers=admin).json()
    assert preview["id"] == letter.message_id and preview["change"] == "created"
    assert preview["summary"] == "would create incident #1 'Printer on fire'"
    assert api.client.get("/api/v1/items", headers=agent).json()["total"] == 0, "a preview writes nothing"
    wait_for(lambda: queue_depth(api.settings.amqp_url, dlq) == 1, timeout=10, what="the letter still there")


def test_an_agent_lists_the_mail_not_sent_yet(api: Api, agent: dict[str, str]) -> None:
    from datetime import timedelta

    from shared.db.engine import transaction
    from shared.db.models import Item, OutboundMail, utcnow

    number = customer_mail(api, sender="alice@customer.example", subject="Printer on fire")
    first = utcnow() - timedelta(minutes=20)
    with transaction(api.sessions) as session:
        item = session.query(Item).filter_by(number=number).one()
        for n, status in enumerate(("pending", "sent")):
            session.add(OutboundMail(event_id=f"e{n}", recipient="alice@customer.example", kind="auto-reply",
                                     item_id=item.id, account="support", message_id=f"<m{n}@ours.example>",
                                     status=status, reason="SMTP: 421 4.3.2 shutting down", attempts=9,
                                     created_at=first, next_attempt_at=first + timedelta(minutes=21)))
    answer = api.client.get("/api/v1/outbox", headers=agent)
    assert answer.status_code == 200, answer.text
    assert answer.json() == {"total": 1, "sends": [{
        "item": {"type": "incident", "number": number}, "account": "support", "kind": "auto-reply",
        "recipient": "alice@customer.example", "attempts": 9, "first_attempt": first.isoformat(),
        "next_attempt": (first + timedelta(minutes=21)).isoformat(), "last_error": "SMTP: 421 4.3.2 shutting down",
        "message_id": "<m0@ours.example>"}]}
    assert api.client.get("/api/v1/outbox").status_code == 401
