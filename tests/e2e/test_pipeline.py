"""The journey a user makes, through four service processes over RabbitMQ, on SQLite and PostgreSQL."""

from __future__ import annotations

import email
import json
from email import policy

from tests.e2e.conftest import Pipeline, mail
from tests.support.waiting import wait_for


def test_a_new_mail_gives_one_item_and_one_auto_reply_and_a_reply_to_it_appends(pipeline: Pipeline) -> None:
    pipeline.drop(mail("The printer on floor 2 is jammed", message_id="<printer-1@example.com>"))
    [item] = pipeline.wait_items(1)
    assert item["title"] == "The printer on floor 2 is jammed"
    [sent] = wait_for(lambda: pipeline.smtp.received, what="the auto-reply")
    reply = sent.message
    assert sent.rcpt_tos == ["ada@example.com"]
    assert sent.mail_from == "<>"  # RFC 3834: auto-responses go with a null return path
    assert f"[#{item['number']}]" in reply["Subject"]
    assert reply["From"] == "support@example.test"
    assert reply["In-Reply-To"] == "<printer-1@example.com>"
    assert reply["Auto-Submitted"] == "auto-replied"

    # The customer answers the auto-reply: their client keeps the subject and threads the headers.
    pipeline.drop(mail(f"Re: {reply['Subject']}", message_id="<printer-2@example.com>",
                       extra_headers=f"In-Reply-To: {reply['Message-ID']}\r\n", body="Fixed, thanks."))
    wait_for(lambda: pipeline.inbound_mails() == 2, what="the reply appended")
    [item] = pipeline.items()
    directions = [d for d, _, _ in item["mails"]]
    assert directions == ["in", "out", "in"]
    assert "our token for #1" in item["mails"][2][2]
    assert len(pipeline.smtp.received) == 1, "a reply to an existing item gets no second auto-reply"


def test_a_reply_carrying_only_the_subject_token_appends_to_the_item(pipeline: Pipeline) -> None:
    pipeline.drop(mail("VPN drops every hour", message_id="<vpn-1@example.com>"))
    [item] = pipeline.wait_items(1)
    pipeline.drop(mail(f"Re: [#{item['number']}] VPN drops every hour", message_id="<vpn-2@example.com>"))
    wait_for(lambda: pipeline.inbound_mails() == 2, what="the reply appended")
    assert len(pipeline.items()) == 1


def test_an_automatic_mail_gives_an_item_and_no_auto_reply(pipeline: Pipeline) -> None:
    pipeline.drop(mail("Out of office", message_id="<ooo@example.com>", extra_headers="Auto-Submitted: auto-replied\r\n"))
    pipeline.drop(mail("A real question", message_id="<question@example.com>"))
    items = pipeline.wait_items(2)
    assert [i["automatic"] for i in items] == [True, False]
    wait_for(lambda: pipeline.smtp.received, what="the auto-reply to the human mail")
    wait_for(lambda: "no auto-reply" in pipeline.logs(), what="the notifier's decision on the automatic mail")
    assert [r.rcpt_tos for r in pipeline.smtp.received] == [["ada@example.com"]]
    assert "A real question" in pipeline.smtp.received[0].message["Subject"]


def test_the_same_raw_mail_ingested_twice_gives_one_item_and_one_auto_reply(pipeline: Pipeline) -> None:
    raw = mail("Disk full on build server", message_id="<disk@example.com>")
    pipeline.drop(raw, name="first.eml")
    pipeline.wait_items(1)
    wait_for(lambda: pipeline.smtp.received, what="the auto-reply")
    pipeline.drop(raw, name="again.eml")  # the same mail, dropped again under another name
    piped = pipeline.cli("ingest", "--account", "demo", stdin=raw)  # and piped in by an MTA
    assert piped.returncode == 0, piped.stderr.decode()
    wait_for(lambda: not any(pipeline.inbox.iterdir()), what="the drop folder drained")
    wait_for(lambda: pipeline.logs().count("duplicate mail") >= 2, what="both copies seen as duplicates")
    assert len(pipeline.items()) == 1
    assert pipeline.inbound_mails() == 1
    assert len(pipeline.smtp.received) == 1


def test_ingest_refuses_an_unknown_account_and_reports_a_temporary_failure_when_the_broker_is_away(
        pipeline: Pipeline) -> None:
    unknown = pipeline.cli("ingest", "--account", "nobody", stdin=mail("x"))
    assert unknown.returncode != 0 and b"unknown account" in unknown.stderr
    pipeline.env["AMQP_URL"] = "amqp://guest:guest@127.0.0.1:1//"
    away = pipeline.cli("ingest", "--account", "demo", stdin=mail("y"))
    assert away.returncode == 75, away.stderr.decode()  # EX_TEMPFAIL: the MTA keeps the mail


def test_items_list_and_show_print_json(pipeline: Pipeline) -> None:
    pipeline.drop(mail("Coffee machine leaks", message_id="<coffee@example.com>"))
    [item] = pipeline.wait_items(1)
    listed = json.loads(pipeline.cli("items", "list", "--json").stdout)
    assert [i["title"] for i in listed] == ["Coffee machine leaks"]
    shown = json.loads(pipeline.cli("items", "show", str(item["number"]), "--json").stdout)
    assert shown["mails"][0]["message_id"] == "<coffee@example.com>"
    assert shown["mails"][0]["raw_key"].startswith("sha256:")
    raw = (pipeline.var / "store").rglob(shown["mails"][0]["raw_key"].removeprefix("sha256:"))
    assert email.message_from_bytes(next(raw).read_bytes(), policy=policy.default)["Subject"] == "Coffee machine leaks"
