"""Templates as the mail they give, received by a real SMTP server: a part left out is derived from
the parts given, and notifications carry the mail's new text and the item's link in the console."""

from __future__ import annotations

from typing import Any

from shared.contracts import Address
from shared.db.engine import transaction
from shared.db.models import Account
from tests.integration.test_notifier import event, handler_for, item_id  # noqa: F401 (fixture)
from tests.support.items import add_account, handle, mail
from tests.support.smtp import RecordingHandler


def _body(message: Any, kind: str) -> str:
    part = message.get_body(preferencelist=(kind,))
    assert part is not None, f"no {kind} part"
    return str(part.get_content())


def with_templates(sessions: Any, templates: dict[str, Any]) -> None:
    with transaction(sessions) as s:
        s.query(Account).filter_by(name="support").one().config = {"templates": templates}


def with_mail_text(env: Any, text: str, reply_text: str | None, **payload: Any) -> Any:
    mail_summary = env.payload.mail.model_copy(update={"text": text, "reply_text": reply_text})
    return env.model_copy(update={"payload": env.payload.model_copy(update={"mail": mail_summary, **payload})})


def test_a_text_only_template_sends_a_plain_text_mail_without_the_stock_html(
        sessions: Any, item_id: int, smtp_server: tuple[RecordingHandler, int]) -> None:
    server, port = smtp_server
    with_templates(sessions, {"auto-reply": {"text": "We have it: {{ token }}"}})
    handler_for(sessions, port)(event(item_id))
    [sent] = server.received
    assert sent.message.get_content_type() == "text/plain" and not sent.message.is_multipart()
    assert sent.message.get_content().strip() == "We have it: [#7]"
    assert sent.message["Subject"] == "[#7] Printer jammed"


def test_an_html_only_template_sends_the_html_with_a_text_part_derived_from_it(
        sessions: Any, item_id: int, smtp_server: tuple[RecordingHandler, int]) -> None:
    server, port = smtp_server
    with_templates(sessions, {"auto-reply": {"html": "<p>Hello {{ mail.from_name }},</p><p>it is <b>{{ token }}</b></p>"}})
    handler_for(sessions, port)(event(item_id))
    [sent] = server.received
    html = _body(sent.message, "html")
    text = _body(sent.message, "plain")
    assert "<b>[#7]</b>" in html and "thank you for your message" not in html
    assert text.replace("\r\n", "\n") == "Hello Ada,\n\nit is [#7]\n"


def test_a_notification_carries_the_new_text_the_change_and_the_items_link_in_the_console(
        sessions: Any, item_id: int, smtp_server: tuple[RecordingHandler, int]) -> None:
    from shared.contracts import StatusChange

    server, port = smtp_server
    env = with_mail_text(event(item_id, auto_reply=False), "It burns again.\n\n> old quote\n", "It burns again.",
                         change="appended", notify=[Address(address="lead@example.com")],
                         status_change=StatusChange(from_status="closed", to_status="open", reopened=True))
    handler_for(sessions, port, console_url="https://postroom.example.com/")(env)
    [sent] = server.received
    text = _body(sent.message, "plain")
    html = _body(sent.message, "html")
    assert "is now open (reopened by a new mail), was closed" in text
    assert "It burns again." in text and "old quote" not in text
    assert "https://postroom.example.com/items/incident/7" in text
    assert 'href="https://postroom.example.com/items/incident/7"' in html


def test_without_a_console_url_a_notification_has_no_link(
        sessions: Any, item_id: int, smtp_server: tuple[RecordingHandler, int]) -> None:
    server, port = smtp_server
    env = with_mail_text(event(item_id, auto_reply=False), "Hello", None, change="appended",
                         notify=[Address(address="lead@example.com")])
    handler_for(sessions, port)(env)
    [sent] = server.received
    body = _body(sent.message, "plain")
    assert "Hello" in body and "/items/" not in body and "href" not in sent.message.as_string()


def test_the_itemwriters_event_carries_the_mails_text_and_new_text(sessions: Any) -> None:
    add_account(sessions)
    changed = handle(sessions, mail(text="New words.\n\n> quoted\n", reply_text="New words."))
    assert (changed.mail.text, changed.mail.reply_text) == ("New words.\n\n> quoted\n", "New words.")
