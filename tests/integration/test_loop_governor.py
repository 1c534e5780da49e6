"""The loop governor: caps, the breaker, the thread rule, CC, and what every suppression leaves behind."""

from __future__ import annotations

from datetime import timedelta
from typing import Any
from unittest import mock

import pytest
from prometheus_client import REGISTRY

from shared.contracts import Address, Classification
from shared.db.engine import transaction
from shared.db.models import Account, Item, LoopBreaker, utcnow
from tests.integration.test_notifier import event, handler_for, item_id, outbox  # noqa: F401 (fixture)
from tests.support.smtp import RecordingHandler


def new_item(sessions: Any, number: int) -> int:
    with transaction(sessions) as s:
        item = Item(type="incident", number=number, project="IT", title=f"item {number}", account="support")
        s.add(item)
        s.flush()
        return item.id


def test_a_naive_autoresponder_answering_fifty_times_in_ten_minutes_gets_ten_replies_and_trips_its_breaker(
        sessions: Any, item_id: int, smtp_server: tuple[RecordingHandler, int]) -> None:
    server, port = smtp_server
    handle = handler_for(sessions, port)
    for n in range(50):  # each of its answers opened a new item (it strips our token and headers)
        handle(event(new_item(sessions, 100 + n), sender="robot@example.org"))
    assert len(server.received) == 10
    rows = outbox(sessions)
    assert len(rows) == 50 and sum(r.status == "suppressed" for r in rows) == 40
    assert all(r.reason for r in rows if r.status == "suppressed")
    assert sum(r.reason.startswith("cap: ") for r in rows) == 3
    assert sum(r.reason.startswith("loop breaker open for robot@example.org") for r in rows) == 37
    with sessions() as s:
        assert s.get(LoopBreaker, ("support", "recipient", "robot@example.org")) is not None
        assert s.get(LoopBreaker, ("support", "account", "")) is None
    assert REGISTRY.get_sample_value("postroom_loop_breakers_open", {"account": "support", "scope": "recipient"}) == 1
    assert REGISTRY.get_sample_value("postroom_loop_breaker_open", {"account": "support"}) == 0
    # The breaker stops the robot, not the account: another customer still gets an auto-reply.
    handle(event(new_item(sessions, 999), sender="human@example.com"))
    assert len(server.received) == 11 and server.received[-1].rcpt_tos == ["human@example.com"]


def test_the_naive_autoresponder_in_one_batch_gets_the_same_ten_replies_and_trips_the_breaker_as_one_by_one(
        sessions: Any, item_id: int, smtp_server: tuple[RecordingHandler, int]) -> None:
    """The batch writes its rows at its end: its own cap refusals count towards the breaker meanwhile."""
    server, port = smtp_server
    batch = [event(new_item(sessions, 100 + n), sender="robot@example.org") for n in range(50)]
    results = handler_for(sessions, port).handle_batch(batch)
    assert results == [[]] * 50 and len(server.received) == 10
    rows = outbox(sessions)
    assert [r.status for r in rows] == ["sent"] * 10 + ["suppressed"] * 40  # in the order of the events
    assert [r.reason[:17] for r in rows[10:14]] == ["cap: robot@exampl"] * 3 + ["loop breaker open"]
    assert sum(r.reason.startswith("loop breaker open") for r in rows) == 37
    with sessions() as s:
        breaker = s.get(LoopBreaker, ("support", "recipient", "robot@example.org"))
        assert breaker is not None and breaker.reason.startswith("3 cap hits")


def test_the_breaker_closes_by_itself_after_the_cool_down(
        sessions: Any, item_id: int, smtp_server: tuple[RecordingHandler, int]) -> None:
    server, port = smtp_server
    handle = handler_for(sessions, port, breaker_cooldown_minutes=30)
    with transaction(sessions) as s:
        s.add(LoopBreaker(account="support", scope="account", key="", opened_at=utcnow(),
                          open_until=utcnow() + timedelta(minutes=30), reason="test", trips=1))
    handle(event(item_id))
    assert server.received == []
    later = utcnow() + timedelta(minutes=31)
    with mock.patch.object(handle.governor, "clock", lambda: later):
        handle(event(new_item(sessions, 8)))
    assert len(server.received) == 1
    assert REGISTRY.get_sample_value("postroom_loop_breaker_open", {"account": "support"}) == 0
    assert REGISTRY.get_sample_value("postroom_loop_breakers_open", {"account": "support", "scope": "account"}) == 0


def test_one_recipient_over_its_cap_does_not_stop_replies_to_others(
        sessions: Any, item_id: int, smtp_server: tuple[RecordingHandler, int]) -> None:
    server, port = smtp_server
    handle = handler_for(sessions, port, cap_per_recipient="2/10m", breaker_cap_hits=5)
    for n in range(3):
        handle(event(new_item(sessions, 10 + n), sender="busy@example.com"))
    handle(event(new_item(sessions, 20), sender="calm@example.com"))
    assert [r.rcpt_tos for r in server.received] == [["busy@example.com"]] * 2 + [["calm@example.com"]]
    assert "busy@example.com already got 2 in 10 min" in outbox(sessions)[2].reason


def test_a_mail_answering_one_of_ours_gets_no_second_auto_reply(
        sessions: Any, item_id: int, smtp_server: tuple[RecordingHandler, int]) -> None:
    from tests.integration.test_notifier import TOKENS

    server, port = smtp_server
    ours = TOKENS.message_id("incident", 3, "example.test", unique="abc")
    env = event(item_id)
    env = env.model_copy(update={"payload": env.payload.model_copy(update={
        "mail": env.payload.mail.model_copy(update={"references": [ours, "<p1@example.com>"]})})})
    handler_for(sessions, port)(env)
    assert server.received == []
    assert "only the first mail of a thread" in outbox(sessions)[0].reason


def test_an_account_that_answers_within_threads_auto_replies_to_a_mail_answering_one_of_ours(
        sessions: Any, item_id: int, smtp_server: tuple[RecordingHandler, int]) -> None:
    """``auto_reply_same_thread: true`` lifts the thread rule only: the caps still count the reply."""
    from tests.integration.test_notifier import TOKENS

    server, port = smtp_server
    with transaction(sessions) as s:
        s.query(Account).filter_by(name="support").one().auto_reply_same_thread = True
    ours = TOKENS.message_id("incident", 3, "example.test", unique="abc")
    env = event(item_id)
    env = env.model_copy(update={"payload": env.payload.model_copy(update={
        "mail": env.payload.mail.model_copy(update={"references": [ours, "<p1@example.com>"]})})})
    handler_for(sessions, port)(env)
    assert [r.rcpt_tos for r in server.received] == [["ada@example.com"]]
    [row] = outbox(sessions)
    assert (row.status, row.counted) == ("sent", True)


def test_cc_recipients_get_the_auto_reply_when_the_account_asks_for_it(
        sessions: Any, item_id: int, smtp_server: tuple[RecordingHandler, int]) -> None:
    server, port = smtp_server
    with transaction(sessions) as s:
        account = s.query(Account).filter_by(name="support").one()
        account.config = {"auto_reply_cc": True}
    env = event(item_id)
    env = env.model_copy(update={"payload": env.payload.model_copy(update={
        "mail": env.payload.mail.model_copy(update={"cc": [Address(name="Bob", address="bob@example.com"),
                                                           Address(address="support@example.test")]})})})
    handler_for(sessions, port)(env)
    assert sorted(r.rcpt_tos[0] for r in server.received) == ["ada@example.com", "bob@example.com"]
    assert len({r.message["Message-ID"] for r in server.received}) == 2
    assert [r.status for r in outbox(sessions)] == ["sent", "sent", "suppressed"]


def test_an_admin_template_renders_in_a_sandbox_and_a_hostile_one_falls_back_to_the_default(
        sessions: Any, item_id: int, smtp_server: tuple[RecordingHandler, int]) -> None:
    server, port = smtp_server
    with transaction(sessions) as s:
        s.query(Account).filter_by(name="support").one().config = {"templates": {"auto-reply": {
            "subject": "Ticket {{ token }} — {{ mail.subject | upper }}",
            "text": "{{ item.__class__.__mro__[1].__subclasses__() }}"}}}
    handler_for(sessions, port)(event(item_id))
    [sent] = server.received
    assert sent.message["Subject"] == "Ticket [#7] — PRINTER JAMMED"
    text = sent.message.get_body(preferencelist=("plain",)).get_content()
    assert "subclasses" not in text and "thank you for your message" in text
    html = sent.message.get_body(preferencelist=("html",)).get_content()
    assert "<b>[#7]</b>" in html


@pytest.mark.parametrize("name", ["Ærøskøbing Kundeservice — Ünïcödé Dëpärtmënt für sehr lange Anzeigenamen",
                                  'Doe, "John" <fake@evil.example>'])
def test_a_long_or_tricky_display_name_folds_and_parses_back_to_the_same_single_address(
        sessions: Any, item_id: int, smtp_server: tuple[RecordingHandler, int], name: str) -> None:
    import email
    from email.header import decode_header, make_header
    from email.utils import getaddresses

    server, port = smtp_server
    env = event(item_id)
    env = env.model_copy(update={"payload": env.payload.model_copy(update={
        "mail": env.payload.mail.model_copy(update={"from_": Address(name=name, address="ada@example.com")})})})
    handler_for(sessions, port)(env)
    [sent] = server.received
    assert sent.rcpt_tos == ["ada@example.com"]
    assert all(len(line) <= 998 for line in sent.data.split(b"\r\n"))
    # Re-parsed with RFC 2047's rule that white space between encoded words is dropped (the
    # policy-based header parser of Python 3.11 keeps a space there, so it is not the judge here).
    raw_to = email.message_from_bytes(sent.data)["To"]
    assert getaddresses([str(make_header(decode_header(raw_to)))]) == [(name, "ada@example.com")]


def test_suppressed_automatic_mail_is_counted_by_rule(
        sessions: Any, item_id: int, smtp_server: tuple[RecordingHandler, int]) -> None:
    _, port = smtp_server
    labels = {"account": "support", "reason": "automatic"}
    before = REGISTRY.get_sample_value("postroom_auto_replies_suppressed_total", labels) or 0
    handler_for(sessions, port)(event(item_id, classification=Classification(kind="bulk", reason="Precedence: bulk")))
    after = REGISTRY.get_sample_value("postroom_auto_replies_suppressed_total", labels)
    assert after == before + 1


def test_a_batch_counts_its_own_sends_against_the_caps_and_a_failed_event_does_not_count(
        sessions: Any, item_id: int, smtp_server: tuple[RecordingHandler, int]) -> None:
    """The caps are read once per batch; each pending row the batch records counts at once, and an
    event that fails (an unknown account) leaves the counts as they were."""
    server, port = smtp_server
    handle = handler_for(sessions, port, cap_per_recipient="2/10m", breaker_cap_hits=5)
    batch = [event(new_item(sessions, 30), sender="busy@example.com"),
             event(new_item(sessions, 31), sender="busy@example.com", account="nobody"),
             event(new_item(sessions, 32), sender="busy@example.com"),
             event(new_item(sessions, 33), sender="busy@example.com"),
             event(new_item(sessions, 34), sender="calm@example.com")]
    results = handle.handle_batch(batch)
    assert [type(r).__name__ for r in results] == ["list", "Reject", "list", "list", "list"]
    assert [r.rcpt_tos for r in server.received] == [["busy@example.com"]] * 2 + [["calm@example.com"]]
    assert [(r.recipient, r.status) for r in outbox(sessions)] == [
        ("busy@example.com", "sent"), ("busy@example.com", "sent"), ("busy@example.com", "suppressed"),
        ("calm@example.com", "sent")]
    assert "busy@example.com already got 2 in 10 min" in outbox(sessions)[2].reason
