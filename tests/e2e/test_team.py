"""The team's side, through the five processes (four pipeline services and the API) over RabbitMQ:
an agent answers a customer, the customer answers back, watchers hear of a status change, and a
merged item's token leads to the item it was merged into."""

from __future__ import annotations

import httpx

from tests.e2e.conftest import Pipeline, mail
from tests.support.waiting import wait_for


def _signed_in(pipeline: Pipeline) -> httpx.Client:
    added = pipeline.cli("users", "add", "ann@example.test", "--name", "Ann", "--password-stdin",
                         stdin=b"a long enough password\n")
    assert added.returncode == 0, added.stderr.decode()
    client = httpx.Client(base_url=pipeline.api_url, timeout=10)
    wait_for(lambda: _answers(client), timeout=30, what="the API")
    token = client.post("/session", json={"email": "ann@example.test", "password": "a long enough password"})
    client.headers["Authorization"] = f"Bearer {token.json()['token']}"
    return client


def _answers(client: httpx.Client) -> bool:
    try:
        return client.get("/openapi.json").status_code == 200
    except httpx.TransportError:
        return False


def test_an_agent_replies_the_customer_answers_watchers_hear_and_a_merge_redirects(pipeline: Pipeline) -> None:
    pipeline.start("api")
    api = _signed_in(pipeline)
    pipeline.drop(mail("The printer on floor 2 is jammed", message_id="<printer-1@example.com>"))
    [item] = pipeline.wait_items(1)
    wait_for(lambda: len(pipeline.smtp.received) == 1, what="the auto-reply")

    answer = api.post(f"/items/incident/{item['number']}/replies", json={"text": "A technician is on the way."})
    assert answer.status_code == 202, answer.text
    wait_for(lambda: len(pipeline.smtp.received) == 2, what="the agent's reply at the SMTP server")
    sent = pipeline.smtp.received[1]
    reply = sent.message
    assert sent.rcpt_tos == ["ada@example.com"] and reply["Auto-Submitted"] is None
    assert reply["In-Reply-To"] == "<printer-1@example.com>" and f"[#{item['number']}]" in reply["Subject"]
    assert f"postroom.incident.{item['number']}." in reply["Message-ID"]
    body = reply.get_body(preferencelist=("plain",))
    assert body is not None and "A technician is on the way." in body.get_content()
    wait_for(lambda: api.get(f"/items/incident/{item['number']}").json()["replies"][0]["delivery"] == "sent",
             what="the reply shown as sent")

    pipeline.drop(mail(f"Re: {reply['Subject']}", message_id="<printer-2@example.com>", body="Thanks!",
                       extra_headers=f"In-Reply-To: {reply['Message-ID']}\r\n"))
    wait_for(lambda: pipeline.inbound_mails() == 2, what="the customer's answer")
    assert len(pipeline.items()) == 1

    api.post(f"/items/incident/{item['number']}/watchers", json={"address": "lead@example.test"})
    assert api.patch(f"/items/incident/{item['number']}", json={"status": "waiting"}).status_code == 200
    notice = wait_for(lambda: [r for r in pipeline.smtp.received if r.rcpt_tos == ["lead@example.test"]],
                      what="the watcher's notification")[0].message
    assert notice["Subject"].startswith(f"[#{item['number']}] Status waiting")

    pipeline.drop(mail("Printer still jammed", message_id="<printer-3@example.com>"))
    second = pipeline.wait_items(2)[1]
    auto_reply = wait_for(lambda: [r for r in pipeline.smtp.received
                                   if r.message["In-Reply-To"] == "<printer-3@example.com>"],
                          what="the second item's auto-reply")[0].message
    merged = api.post(f"/items/incident/{second['number']}/merge", json={"into": item["number"]})
    assert merged.status_code == 200, merged.text
    pipeline.drop(mail(f"Re: {auto_reply['Subject']}", message_id="<printer-4@example.com>", body="Any news?",
                       extra_headers=f"In-Reply-To: {auto_reply['Message-ID']}\r\n"))
    wait_for(lambda: pipeline.inbound_mails() == 4, what="the answer to the merged item's auto-reply")
    shown = api.get(f"/items/incident/{item['number']}").json()
    assert [m["message_id"] for m in shown["mails"] if m["direction"] == "in"][-1] == "<printer-4@example.com>"
    assert api.get(f"/items/incident/{second['number']}").json()["mails"] == []
