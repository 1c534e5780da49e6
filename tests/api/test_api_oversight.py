"""The queues, the loop breakers and the failing addresses through the API: who may read and who may
change each, on the real RabbitMQ and database; nothing answers without a sign-in."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from shared.db.models import Contact, LoopBreaker, utcnow
from shared.runner import to_outgoing
from shared.service import topology_from
from tests.api.conftest import Api
from tests.support.items import add
from tests.support.pipeline import fetched


def test_the_queues_are_for_admins_and_show_depth_consumers_and_dead_letters(
        api: Api, admin: dict[str, str], agent: dict[str, str]) -> None:
    api.service.broker.publish([to_outgoing(fetched("q-1")), to_outgoing(fetched("q-2"))])
    assert api.client.get("/api/v1/queues").status_code == 401
    assert api.client.get("/api/v1/queues", headers=agent).status_code == 403
    shown = api.client.get("/api/v1/queues", headers=admin).json()
    rows = {r["queue"]: r for r in shown["queues"]}
    work = rows[topology_from(api.settings).queue("parser")]
    assert work["ready"] == 2 and work["consumers"] == 0 and work["role"] == "work"
    assert shown["dead_letters"] == {"parser": 0, "itemwriter": 0, "notifier": 0}
    assert shown["source"] == "amqp" and "unacked" in shown["unavailable"]


def test_agents_read_breakers_and_failing_addresses_only_admins_reset_and_clear(
        api: Api, admin: dict[str, str], agent: dict[str, str]) -> None:
    now = utcnow()
    add(api.sessions, LoopBreaker(account="support", scope="recipient", key="robot@loop.example", opened_at=now,
                                  open_until=now + timedelta(hours=1), reason="cap", trips=2),
        Contact(email="gone@customer.example", failing=True, failing_reason="550 5.1.1", failing_since=now))
    for path in ("/api/v1/breakers", "/api/v1/contacts/failing"):
        assert api.client.get(path).status_code == 401
    [breaker] = api.client.get("/api/v1/breakers", headers=agent).json()
    assert breaker["target"] == "robot@loop.example" and breaker["open"] is True
    [failing] = api.client.get("/api/v1/contacts/failing", headers=agent).json()
    assert failing["email"] == "gone@customer.example" and failing["reason"] == "550 5.1.1"
    body = {"account": "support", "recipient": "robot@loop.example"}
    assert api.client.post("/api/v1/breakers/reset", json=body, headers=agent).status_code == 403
    assert api.client.post("/api/v1/contacts/gone@customer.example/clear", headers=agent).status_code == 403
    assert api.client.post("/api/v1/breakers/reset", json=body, headers=admin).json()["key"] == "robot@loop.example"
    assert api.client.post("/api/v1/breakers/reset", json=body, headers=admin).status_code == 404
    cleared = api.client.post("/api/v1/contacts/gone@customer.example/clear", headers=admin)
    assert cleared.status_code == 200 and cleared.json()["email"] == "gone@customer.example"
    assert api.client.post("/api/v1/contacts/gone@customer.example/clear", headers=admin).status_code == 404
    with api.sessions() as session:
        assert session.scalar(select(LoopBreaker)) is None
        assert session.scalar(select(Contact.failing)) is False
