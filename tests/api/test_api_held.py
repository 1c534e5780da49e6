"""Held mail through the API, on the real database and RabbitMQ: a mail for an inactive account goes
through the real parser and itemwriter consumers and is held with its cause; admins list, inspect,
preview (which changes nothing), release (which makes it an item through the same consumers) and
discard it; agents get 403, a missing token 401."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import func, select, update

from services.itemwriter.handlers import make_handler as make_itemwriter
from services.parser.handlers import make_handler as make_parser
from services.parser.limits import Limits
from shared.contracts import BlobRef, Envelope, MailFetched
from shared.db.engine import transaction
from shared.db.models import Account, HeldMail, Item, PendingMessage
from shared.runner import to_outgoing
from shared.service import topology_from
from shared.tokens import ItemTokens
from tests.api.conftest import Api
from tests.support.pipeline import consuming
from tests.support.waiting import wait_for

RAW = (b"From: Alice <alice@customer.example>\r\nTo: support@ours.example\r\nSubject: Printer on fire\r\n"
       b"Message-ID: <held-1@customer.example>\r\nDate: Thu, 26 Nov 2026 09:30:00 +0000\r\n\r\nIt is on fire.\r\n")


@contextmanager
def pipeline(api: Api) -> Iterator[None]:
    """The real parser and itemwriter handlers, consuming from the real broker."""
    topology = topology_from(api.settings)
    tokens = ItemTokens(api.settings.item_token_format, api.settings.resolved_token_secret)
    with ExitStack() as stack:
        stack.enter_context(consuming(api.service.broker, "parser", make_parser(api.service.context.store, tokens,
                                                                                Limits()),
                                      max_retries=1, retry_step=topology.retry_step))
        stack.enter_context(consuming(api.service.broker, "itemwriter", make_itemwriter(api.sessions),
                                      max_retries=3, retry_step=topology.retry_step))
        yield


def fetched_for(api: Api, raw: bytes, source_id: str) -> Envelope[Any]:
    ref: BlobRef = api.service.context.store.put(raw)
    return Envelope.first(MailFetched(account="support", source="stdin", source_id=source_id, raw=ref,
                                      received_at=datetime.now(UTC)))


def set_active(api: Api, active: bool) -> None:
    with transaction(api.sessions) as session:
        session.execute(update(Account).where(Account.name == "support").values(active=active))


def counts(api: Api) -> tuple[int, int, int]:
    """(items, held rows still held, messages queued for the pipeline)."""
    with api.sessions() as session:
        return (session.scalar(select(func.count()).select_from(Item)) or 0,
                session.scalar(select(func.count()).select_from(HeldMail).where(HeldMail.state == "held")) or 0,
                session.scalar(select(func.count()).select_from(PendingMessage)) or 0)


def test_a_mail_held_by_a_rule_is_listed_previewed_released_into_an_item_and_agents_cannot(
        api: Api, admin: dict[str, str], agent: dict[str, str]) -> None:
    set_active(api, False)
    with pipeline(api):
        api.service.broker.publish([to_outgoing(fetched_for(api, RAW, "stdin:held-1"))])
        wait_for(lambda: counts(api)[1] == 1, timeout=20, what="the mail held")

        assert api.client.get("/api/v1/operations/held").status_code == 401
        assert api.client.get("/api/v1/operations/held", headers=agent).status_code == 403
        page = api.client.get("/api/v1/operations/held?account=support&rule=inactive-account", headers=admin).json()
        assert page["total"] == 1
        [listed] = page["mails"]
        assert listed["rule"] == "inactive-account" and "account support is inactive" in listed["reason"]
        assert listed["from"] == "alice@customer.example" and listed["subject"] == "Printer on fire"
        assert api.client.get("/api/v1/operations/held?rule=own-mail", headers=admin).json()["total"] == 0
        assert api.client.get("/api/v1/operations/held?rule=nope", headers=admin).json()["field"] == "rule"
        held_id = listed["id"]

        shown = api.client.get(f"/api/v1/operations/held/{held_id}", headers=admin).json()
        assert ["Subject", "Printer on fire"] in shown["headers"]
        assert shown["trace"]["held"]["rule"] == "inactive-account" and shown["trace"]["item"] is None
        assert shown["trace"]["fetched"]["source_id"] == "stdin:held-1"
        assert api.client.get(f"/api/v1/operations/held/{held_id}", headers=agent).status_code == 403

        again = api.client.get(f"/api/v1/operations/held/{held_id}/preview", headers=admin).json()
        assert again["change"] == "held" and again["summary"].startswith("would be held back again")
        aside = api.client.get(f"/api/v1/operations/held/{held_id}/preview?override=true", headers=admin).json()
        assert aside["change"] == "created" and aside["summary"].startswith("would create incident #")
        assert aside["mail"]["subject"] == "Printer on fire"
        assert counts(api) == (0, 1, 0), "a preview changes nothing"

        assert api.client.post(f"/api/v1/operations/held/{held_id}/release", headers=agent).status_code == 403
        released = api.client.post(f"/api/v1/operations/held/{held_id}/release", json={"override": True},
                                   headers=admin).json()
        assert released["released"] == held_id and released["override"] is True
        assert api.client.post(f"/api/v1/operations/held/{held_id}/release",
                               headers=admin).status_code == 409, "released once"
        assert api.published() == 1
        wait_for(lambda: counts(api)[0] == 1, timeout=20, what="the released mail made an item")

    shown = api.client.get(f"/api/v1/operations/held/{held_id}", headers=admin).json()
    assert shown["state"] == "released" and shown["trace"]["item"]["number"] >= 1
    assert shown["trace"]["released"]["by"] == "root@ours.example"
    mail_id = shown["trace"]["item"]["mail_id"]
    trace = api.client.get(f"/api/v1/mails/{mail_id}/trace", headers=agent).json()
    assert "released by root@ours.example from the hold 'inactive-account'" in " ".join(trace["placed"]["notes"])
    assert api.client.get("/api/v1/operations/held", headers=admin).json()["total"] == 0
    assert api.client.get("/api/v1/operations/held?state=released", headers=admin).json()["total"] == 1

    assert api.client.delete(f"/api/v1/operations/held/{held_id}", headers=agent).status_code == 403
    assert api.client.delete(f"/api/v1/operations/held/{held_id}", headers=admin).json()["discarded"] == held_id
    assert api.client.get(f"/api/v1/operations/held/{held_id}", headers=admin).status_code == 404
    assert api.service.context.store.exists(shown["raw"]), "the raw mail stays stored"


def test_a_release_with_the_current_rules_holds_the_mail_again_while_the_rule_still_applies(
        api: Api, admin: dict[str, str]) -> None:
    set_active(api, False)
    with pipeline(api):
        api.service.broker.publish([to_outgoing(fetched_for(api, RAW, "stdin:held-2"))])
        wait_for(lambda: counts(api)[1] == 1, timeout=20, what="the mail held")
        [listed] = api.client.get("/api/v1/operations/held", headers=admin).json()["mails"]
        api.client.post(f"/api/v1/operations/held/{listed['id']}/release", headers=admin).raise_for_status()
        assert api.published() == 1
        wait_for(lambda: counts(api)[1] == 1 and api.client.get(f"/api/v1/operations/held/{listed['id']}",
                                                                headers=admin).json()["times_held"] == 2,
                 timeout=20, what="the mail held again")
        assert counts(api)[0] == 0
        set_active(api, True)  # the account is back: the same release now makes the item
        api.client.post(f"/api/v1/operations/held/{listed['id']}/release", headers=admin).raise_for_status()
        assert api.published() == 1
        wait_for(lambda: counts(api)[0] == 1, timeout=20, what="the item")
    with api.sessions() as session:
        assert session.scalar(select(func.count()).select_from(HeldMail)) == 1, "one row per mail, never two"
