"""The loop governor's scope matches the harm: a busy ticket trips nothing, a looping correspondent or
thread is stopped on its own, and only a storm of many correspondents stops a whole account."""

from __future__ import annotations

import uuid
from typing import Any

from prometheus_client import REGISTRY
from sqlalchemy import select

from shared.contracts import Address, Envelope, FieldChange, ItemEdited, ItemSummary, SendReply, StatusChange
from shared.db.models import LoopBreaker
from tests.integration.test_loop_governor import new_item
from tests.integration.test_notifier import event, handler_for, item_id, outbox  # noqa: F401 (fixture)
from tests.support.smtp import RecordingHandler

WATCHERS = [Address(name=f"Watcher {n}", address=f"watcher{n}@example.com") for n in range(4)]
ITEM = {"type": "incident", "number": 7, "title": "Printer jammed", "status": "open", "project": "IT"}


def breakers(sessions: Any) -> list[tuple[str, str, str]]:
    with sessions() as s:
        return sorted((b.account, b.scope, b.key) for b in s.scalars(select(LoopBreaker)))


def received_by(server: RecordingHandler, address: str) -> list[Any]:
    return [r for r in server.received if r.rcpt_tos == [address]]


def agent_reply(item_id: int, text: str) -> Envelope[Any]:
    """A person's reply from the item page, as the application layer queues it."""
    reply_id = str(uuid.uuid4())
    return Envelope.first(SendReply(reply_id=reply_id, account="support", item=ItemSummary(id=item_id, **ITEM),
                                    author=Address(name="Agent", address="agent@example.test"),
                                    to=[Address(name="Ada", address="ada@example.com")], subject="Re: Printer jammed",
                                    text=text, in_reply_to="<p1@example.com>", references=["<p1@example.com>"]),
                          message_id=reply_id)


def mail_on_item(item_id: int, sender: str, answering: str | None, notify: list[Address]) -> Envelope[Any]:
    """A mail appended to the item, answering ``answering`` (one of our Message-IDs), as the
    itemwriter announces it: its references end with the mail itself; its sender is not notified."""
    env = event(item_id, sender=sender, auto_reply=False)
    own = f"<{uuid.uuid4().hex}@{sender.partition('@')[2]}>"
    mail = env.payload.mail.model_copy(update={
        "message_id": own, "references": ["<p1@example.com>", *([answering] if answering else []), own]})
    return env.model_copy(update={"payload": env.payload.model_copy(update={
        "change": "appended", "mail": mail, "notify": [w for w in notify if w.address != sender]})})


def status_edit(item_id: int, to_status: str) -> Envelope[Any]:
    return Envelope.first(ItemEdited(account="support", item=ItemSummary(id=item_id, **{**ITEM, "status": to_status}),
                                     actor="agent@example.test",
                                     changes=[FieldChange(field="status", before="open", after=to_status)],
                                     status_change=StatusChange(from_status="open", to_status=to_status),
                                     notify=WATCHERS, subject="Printer jammed", in_reply_to="<p1@example.com>"))


def test_a_busy_ticket_with_several_watchers_and_a_dozen_human_replies_sends_every_notification_and_trips_nothing(
        sessions: Any, item_id: int, smtp_server: tuple[RecordingHandler, int]) -> None:
    """Twelve replies of the agents, each answered by the customer (four watchers told of each answer),
    two status changes and two colleagues' answers to a notification, in seconds: harsher than ten
    minutes, since every mail is inside every cap's window. Mail answering a person's reply, or about
    a person's change, cannot be a loop and is not counted; the colleagues' two rounds are."""
    server, port = smtp_server
    handle = handler_for(sessions, port)
    for n in range(12):
        assert handle.handle_batch([agent_reply(item_id, f"Answer {n}")]) == [[]]
        reply_id = server.received[-1].message["Message-ID"]
        assert handle.handle_batch([mail_on_item(item_id, "ada@example.com", reply_id, WATCHERS)]) == [[]]
        if n in (3, 7):
            assert handle.handle_batch([status_edit(item_id, "waiting" if n == 3 else "open")]) == [[]]
        if n in (5, 10):
            notice = received_by(server, WATCHERS[0].address)[-1].message["Message-ID"]
            assert handle.handle_batch([mail_on_item(item_id, WATCHERS[0].address, notice, WATCHERS)]) == [[]]
    rows = outbox(sessions)
    assert [r for r in rows if r.status != "sent"] == []
    assert len(received_by(server, "ada@example.com")) == 12
    assert [len(received_by(server, w.address)) for w in WATCHERS] == [14, 16, 16, 16]
    assert breakers(sessions) == []
    # What counted against the caps: the notifications of the colleagues' two answers, nothing else.
    assert sorted((r.kind, r.recipient) for r in rows if r.counted) == sorted(
        ("updated", w.address) for w in WATCHERS[1:] for _ in range(2))


def test_a_looping_responder_is_stopped_within_its_cap_while_other_customers_keep_getting_replies(
        sessions: Any, item_id: int, smtp_server: tuple[RecordingHandler, int]) -> None:
    """It answers every auto-reply with a new mail (stripping our token), 30 times; ten other
    customers write meanwhile."""
    server, port = smtp_server
    handle = handler_for(sessions, port)
    for n in range(30):
        handle(event(new_item(sessions, 100 + n), sender="robot@example.org"))
        if n % 3 == 2:
            handle(event(new_item(sessions, 200 + n), sender=f"customer{n}@example.com"))
    assert len(received_by(server, "robot@example.org")) == 10
    assert sorted(r.rcpt_tos[0] for r in server.received if r.rcpt_tos != ["robot@example.org"]) == sorted(
        f"customer{n}@example.com" for n in range(2, 30, 3))
    assert breakers(sessions) == [("support", "recipient", "robot@example.org")]
    reasons = [r.reason for r in outbox(sessions) if r.recipient == "robot@example.org" and r.status == "suppressed"]
    assert len(reasons) == 20 and all(r.startswith(("cap: robot", "loop breaker open for robot")) for r in reasons)


def test_two_watchers_autoresponders_answering_each_others_notifications_are_stopped_on_that_item_alone(
        sessions: Any, item_id: int, smtp_server: tuple[RecordingHandler, int]) -> None:
    """Each answer is appended to the item and tells the other watchers, whose responder answers in
    turn: the item's cap counts rounds (ten), then its breaker opens; another item still notifies."""
    server, port = smtp_server
    handle = handler_for(sessions, port)
    watchers = [Address(address="ooo1@example.com"), Address(address="ooo2@example.com"),
                Address(address="lead@example.com")]
    handle(mail_on_item(item_id, "ada@example.com", None, watchers))
    for n in range(30):
        sender = watchers[n % 2].address
        last = received_by(server, sender)[-1].message["Message-ID"]
        handle(mail_on_item(item_id, sender, last, watchers))
    assert len(received_by(server, "lead@example.com")) == 10  # ten rounds, then nothing more
    assert len(server.received) == 3 + 9 * 2
    assert breakers(sessions) == [("support", "item", str(item_id))]
    refused = [r.reason for r in outbox(sessions) if r.status == "suppressed"]
    # Three rounds refused by the cap (the third one's first refusal opens the breaker), then the breaker.
    assert [r.startswith("cap: item #7 already had 10 rounds in 10 min") for r in refused[:6]] == [True] * 5 + [False]
    assert all(r.startswith("loop breaker open for item #7") for r in refused[5:])
    handle(status_edit(item_id, "waiting"))  # not counted against the caps, but the breaker holds it too
    assert len(server.received) == 3 + 9 * 2
    other = new_item(sessions, 8)
    handle(mail_on_item(other, "ada@example.com", None, [Address(address="someone@example.com")]))
    assert server.received[-1].rcpt_tos == ["someone@example.com"]


def test_the_account_breaker_opens_only_for_a_storm_of_many_correspondents(
        sessions: Any, item_id: int, smtp_server: tuple[RecordingHandler, int]) -> None:
    server, port = smtp_server
    handle = handler_for(sessions, port, cap_per_recipient="1/10m", breaker_storm_correspondents=5)
    number = iter(range(100, 200))

    def two_mails_from(address: str) -> None:
        for _ in range(2):  # the second one hits its cap
            handle(event(new_item(sessions, next(number)), sender=address))

    for n in range(4):
        two_mails_from(f"looping{n}@example.org")
    handle(event(new_item(sessions, next(number)), sender="calm@example.com"))
    assert server.received[-1].rcpt_tos == ["calm@example.com"]
    assert breakers(sessions) == []  # four correspondents over their caps: each is capped, no storm
    two_mails_from("looping4@example.org")
    assert breakers(sessions) == [("support", "account", "")]
    assert REGISTRY.get_sample_value("postroom_loop_breaker_open", {"account": "support"}) == 1
    handle(event(new_item(sessions, next(number)), sender="another@example.com"))
    assert server.received[-1].rcpt_tos == ["looping4@example.org"]  # nothing for the newcomer
    last = outbox(sessions)[-1]
    assert last.reason.startswith("loop breaker open for the whole account") and "a storm: 5 correspondents" in \
        last.reason
