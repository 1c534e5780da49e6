"""Working items through the API: lists and filters, changes checked against the catalogue and told to
the watchers, replies sent once by the real notifier to a real SMTP server, attachments as downloads,
merges whose tokens then lead to the target."""

from __future__ import annotations

import base64
from typing import Any

import pytest
from sqlalchemy import select

from services.notifier.bootstrap import build as build_notifier
from services.notifier.settings import NotifierSettings
from shared.contracts import decode
from shared.db.models import Item, ItemAttachment, ItemEvent, ItemMail, PendingMessage
from shared.health import HealthState
from shared.service import topology_from
from tests.api.conftest import AGENT, Api, customer_mail
from tests.support.broker_admin import get_all
from tests.support.items import TEST_SECRET, TOKENS, handle, mail
from tests.support.smtp import RecordingHandler


def notifier_for(api: Api, smtp_port: int) -> Any:
    """The real notifier, as its composition root builds it, signing with the tests' token secret."""
    settings = NotifierSettings(database_url=api.settings.database_url, amqp_url=api.settings.amqp_url,
                                broker_namespace=api.settings.broker_namespace, store_dir=api.settings.store_dir,
                                smtp_host="127.0.0.1", smtp_port=smtp_port, token_secret=TEST_SECRET)
    return build_notifier(settings, HealthState(), api.service.broker).handler


def deliver_to_notifier(api: Api, smtp_port: int) -> list[Any]:
    """Publish what the application layer queued, then hand the notifier's queue to the real notifier."""
    api.published()
    notifier = notifier_for(api, smtp_port)
    queue = topology_from(api.settings).queue("notifier")
    envelopes = [decode(body) for body, _ in get_all(api.settings.amqp_url, queue)]
    results = notifier.handle_batch(envelopes)  # type: ignore[union-attr]
    assert not [r for r in results if isinstance(r, Exception)], results
    return envelopes


def test_items_are_listed_newest_first_filtered_and_paged(api: Api, agent: dict[str, str]) -> None:
    for n in range(3):
        customer_mail(api, subject=f"Printer {n} jammed", sender=f"c{n}@customer.example")
    customer_mail(api, subject="Scanner is smoking")
    api.client.patch("/api/v1/items/incident/2", headers=agent, json={"status": "open"})
    page = api.client.get("/api/v1/items?per_page=2", headers=agent).json()
    assert [i["number"] for i in page["items"]] == [4, 3] and page["total"] == 4
    assert [i["number"] for i in api.client.get("/api/v1/items?per_page=2&page=2", headers=agent).json()["items"]] == [2, 1]
    assert [i["number"] for i in api.client.get("/api/v1/items?status=open", headers=agent).json()["items"]] == [2]
    assert [i["number"] for i in api.client.get("/api/v1/items?q=smoking", headers=agent).json()["items"]] == [4]
    assert api.client.get("/api/v1/items?project=Nope", headers=agent).json()["total"] == 0
    assert api.client.get("/api/v1/items?per_page=500", headers=agent).json()["field"] == "per_page"


def test_a_status_not_in_the_catalogue_is_refused_naming_the_field_and_the_choices(api: Api,
                                                                                   agent: dict[str, str]) -> None:
    number = customer_mail(api)
    answer = api.client.patch(f"/api/v1/items/incident/{number}", headers=agent, json={"status": "solved"})
    assert answer.status_code == 422 and answer.json()["field"] == "status"
    assert "closed, new, open, waiting" in answer.json()["message"]
    assert api.client.patch(f"/api/v1/items/incident/{number}", headers=agent,
                            json={"assignee": "nobody@ours.example"}).json()["field"] == "assignee"
    assert api.client.patch(f"/api/v1/items/incident/{number}", headers=agent,
                            json={"fields": {"severity": "high"}}).json()["field"] == "fields.severity"
    with api.sessions() as session:
        assert session.scalars(select(ItemEvent)).all() == []
        assert session.scalars(select(PendingMessage)).all() == []


def test_a_status_change_is_on_the_history_and_the_watchers_get_the_notification(
        api: Api, agent: dict[str, str], smtp_server: tuple[RecordingHandler, int]) -> None:
    smtp, port = smtp_server
    number = customer_mail(api)
    path = f"/api/v1/items/incident/{number}"
    assert api.client.post(f"{path}/watchers", headers=agent, json={"address": "Watcher@Team.example"}).json() == {
        "added": True}
    api.client.post(f"{path}/watchers", headers=agent, json={"address": AGENT[0]})
    changed = api.client.patch(path, headers=agent, json={"step": "in-progress", "assignee": AGENT[0]})
    assert {c["field"] for c in changed.json()["changes"]} == {"step", "status", "assignee"}
    shown = api.client.get(path, headers=agent).json()
    assert (shown["status"], shown["step"], shown["assignee"]) == ("open", "in-progress", AGENT[0])
    assert [(h["actor"], h["action"]) for h in shown["history"]][-1] == (AGENT[0], "edited")
    deliver_to_notifier(api, port)
    to_watcher = [r for r in smtp.received if r.rcpt_tos == ["watcher@team.example"]]
    assert len(to_watcher) == 1, [r.rcpt_tos for r in smtp.received]
    message = to_watcher[0].message
    assert message["Subject"].startswith(f"[#{number}] Status open")
    body = message.get_body(preferencelist=("plain",))
    assert body is not None and AGENT[0] in body.get_content()
    assert not [r for r in smtp.received if AGENT[0] in r.rcpt_tos], "the actor is not told of their own change"


def test_a_reply_goes_once_with_the_token_threaded_and_not_marked_automatic(
        api: Api, agent: dict[str, str], smtp_server: tuple[RecordingHandler, int]) -> None:
    smtp, port = smtp_server
    number = customer_mail(api, sender="alice@customer.example", message_id="<first@customer.example>")
    attachment = {"filename": "steps.txt", "content_type": "text/plain",
                  "content_base64": base64.b64encode(b"1. unplug it\n").decode()}
    answer = api.client.post(f"/api/v1/items/incident/{number}/replies", headers=agent,
                             json={"text": "We are on it.", "cc": ["bob@customer.example"], "attachments": [attachment]})
    assert answer.status_code == 202 and answer.json()["delivery"] == "queued"
    envelopes = deliver_to_notifier(api, port)
    assert len(smtp.received) == 1
    sent = smtp.received[0]
    assert sorted(sent.rcpt_tos) == ["alice@customer.example", "bob@customer.example"]
    message = sent.message
    assert message["In-Reply-To"] == "<first@customer.example>" and "<first@customer.example>" in message["References"]
    assert message["Auto-Submitted"] is None and f"[#{number}]" in message["Subject"]
    assert str(message["From"]) == "Ann Agent <support@ours.example>"
    assert [p.get_filename() for p in message.iter_attachments()] == ["steps.txt"]
    tokens = TOKENS.items_in_message_id(message["Message-ID"], "alice@customer.example")
    assert tokens and tokens[0].number == number and tokens[0].bound
    notifier_for(api, port).handle_batch(envelopes)  # the request delivered again
    assert len(smtp.received) == 1, "a redelivered reply request sends nothing"
    replies = api.client.get(f"/api/v1/items/incident/{number}", headers=agent).json()["replies"]
    assert [(r["by"], r["delivery"]) for r in replies] == [(AGENT[0], "sent")]
    for customer in ("alice@customer.example", "bob@customer.example"):
        answered = handle(api.sessions, mail(sender=customer, subject="Re: thanks",
                                             in_reply_to=message["Message-ID"]))
        assert answered.change == "appended" and answered.item.number == number, (customer, answered.matched_by)


def test_a_reply_that_the_smtp_server_refuses_shows_as_failed(api: Api, agent: dict[str, str],
                                                              smtp_server: tuple[RecordingHandler, int]) -> None:
    smtp, port = smtp_server
    number = customer_mail(api)
    api.client.post(f"/api/v1/items/incident/{number}/replies", headers=agent, json={"text": "Hello"})
    smtp.refuse_with = "550 5.1.1 no such user"
    deliver_to_notifier(api, port)
    replies = api.client.get(f"/api/v1/items/incident/{number}", headers=agent).json()["replies"]
    assert replies[0]["delivery"] == "failed" and "no such user" in replies[0]["reason"]


def test_an_attachment_downloads_as_bytes_never_inline(api: Api, agent: dict[str, str]) -> None:
    from shared.store import FilesystemBlobStore

    number = customer_mail(api)
    ref = FilesystemBlobStore(api.settings.resolved_store_dir).put(b"<script>alert(1)</script>")
    with api.sessions() as session, session.begin():
        item = session.scalar(select(Item).where(Item.number == number))
        assert item is not None
        mail_row = session.scalar(select(ItemMail).where(ItemMail.item_id == item.id))
        assert mail_row is not None
        row = ItemAttachment(item_id=item.id, mail_id=mail_row.id, filename="évil\r\n.html", content_type="text/html",
                             size=ref.size, sha256=ref.sha256, blob_key=ref.key)
        session.add(row)
        session.flush()
        attachment_id = row.id
    got = api.client.get(f"/api/v1/items/incident/{number}/attachments/{attachment_id}", headers=agent)
    assert got.status_code == 200 and got.content == b"<script>alert(1)</script>"
    assert got.headers["content-type"] == "application/octet-stream"
    assert got.headers["x-content-type-options"] == "nosniff"
    assert got.headers["content-disposition"].startswith('attachment; filename="_vil__.html"')
    assert "%C3%A9vil" in got.headers["content-disposition"]
    assert api.client.get(f"/api/v1/items/incident/{number}/attachments/999", headers=agent).status_code == 404


def test_a_merged_items_mails_move_and_a_reply_to_its_token_lands_on_the_target(api: Api, agent: dict[str, str]) -> None:
    first = customer_mail(api, sender="alice@customer.example", subject="Printer on fire")
    second = customer_mail(api, sender="alice@customer.example", subject="Printer still on fire")
    api.client.post(f"/api/v1/items/incident/{second}/watchers", headers=agent, json={"address": "w@team.example"})
    merged = api.client.post(f"/api/v1/items/incident/{second}/merge", headers=agent, json={"into": first})
    assert merged.status_code == 200, merged.text
    target = api.client.get(f"/api/v1/items/incident/{first}", headers=agent).json()
    source = api.client.get(f"/api/v1/items/incident/{second}", headers=agent).json()
    assert len(target["mails"]) == 2 and source["mails"] == []
    assert source["merged_into"] == {"type": "incident", "number": first} and source["status"] == "closed"
    assert "w@team.example" in [n["address"] for n in target["notify"]]
    assert api.client.get("/api/v1/items", headers=agent).json()["total"] == 1
    refused = api.client.patch(f"/api/v1/items/incident/{second}", headers=agent, json={"title": "x"})
    assert refused.status_code == 409
    token_of_second = TOKENS.message_id("incident", second, "ours.example", recipient="alice@customer.example")
    answered = handle(api.sessions, mail(sender="alice@customer.example", subject="Re: still", in_reply_to=token_of_second))
    assert answered.change == "appended" and answered.item.number == first


def test_a_mail_split_off_becomes_its_own_item_linked_to_the_first(api: Api, agent: dict[str, str]) -> None:
    number = customer_mail(api, sender="alice@customer.example", message_id="<a1@customer.example>")
    handle(api.sessions, mail(sender="alice@customer.example", subject="Another thing entirely",
                              in_reply_to="<a1@customer.example>"))
    mails = api.client.get(f"/api/v1/items/incident/{number}", headers=agent).json()["mails"]
    assert len(mails) == 2
    split = api.client.post(f"/api/v1/items/incident/{number}/split", headers=agent, json={"mail_id": mails[1]["id"]})
    assert split.status_code == 201 and split.json()["title"] == "Another thing entirely"
    new = api.client.get(f"/api/v1/items/incident/{split.json()['number']}", headers=agent).json()
    assert len(new["mails"]) == 1 and new["links"][0]["kind"] == "split-from"
    only = api.client.get(f"/api/v1/items/incident/{number}", headers=agent).json()["mails"][0]["id"]
    assert api.client.post(f"/api/v1/items/incident/{number}/split", headers=agent,
                           json={"mail_id": only}).status_code == 422


@pytest.mark.parametrize("body,field", [({"text": ""}, "text"), ({"text": "hi", "to": ["not an address"]}, "address"),
                                        ({"text": "hi", "attachments": [{"filename": "a", "content_base64": "%%"}]},
                                         "attachments")])
def test_a_bad_reply_is_refused_naming_the_field(api: Api, agent: dict[str, str], body: dict[str, Any],
                                                 field: str) -> None:
    number = customer_mail(api)
    answer = api.client.post(f"/api/v1/items/incident/{number}/replies", headers=agent, json=body)
    assert answer.status_code == 422 and answer.json()["field"] == field


def test_a_risky_attachment_is_flagged_on_the_item_and_refused_in_a_reply(api: Api, agent: dict[str, str]) -> None:
    """An .exe a customer sent is shown flagged; an agent cannot send one."""
    from shared.store import FilesystemBlobStore

    number = customer_mail(api)
    ref = FilesystemBlobStore(api.settings.resolved_store_dir).put(b"MZ")
    with api.sessions() as session, session.begin():
        item = session.scalar(select(Item).where(Item.number == number))
        assert item is not None
        mail_row = session.scalar(select(ItemMail).where(ItemMail.item_id == item.id))
        assert mail_row is not None
        session.add(ItemAttachment(item_id=item.id, mail_id=mail_row.id, filename="invoice.pdf.exe",
                                   content_type="application/pdf", size=2, sha256=ref.sha256, blob_key=ref.key))
    shown = api.client.get(f"/api/v1/items/incident/{number}", headers=agent).json()["attachments"]
    assert shown[0]["risk"] == "a .exe file runs code or script when opened"
    refused = api.client.post(f"/api/v1/items/incident/{number}/replies", headers=agent, json={
        "text": "here", "attachments": [{"filename": "tool.exe", "content_base64": base64.b64encode(b"MZ").decode()}]})
    assert refused.status_code == 422 and refused.json()["field"] == "attachments"
    assert "tool.exe" in refused.json()["message"]
