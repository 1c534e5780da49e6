"""The notifier against a real SMTP server (aiosmtpd) and the real databases."""

from __future__ import annotations

import tempfile
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from services.notifier.governor import Governor
from services.notifier.handlers import Notifier
from services.notifier.replies import ReplySender
from services.notifier.senders import SenderPool
from services.notifier.settings import NotifierSettings
from services.notifier.waits import Waits
from shared.broker.topology import Topology
from shared.templates import MailTemplates
from shared.contracts import Address, Classification, Envelope, ItemChanged, ItemSummary, MailSummary
from shared.db.engine import transaction
from shared.db.models import Account, Item, ItemMail, OutboundMail, as_utc
from shared.errors import RetryLater
from shared.secrets import SecretBox
from shared.store import FilesystemBlobStore
from shared.tokens import ItemTokens
from tests.support.broker_admin import TEST_OUTAGE_DELAYS
from tests.support.pipeline import TOKEN_SECRET
from tests.support.smtp import RecordingHandler

TOKENS = ItemTokens("[#{number}]", TOKEN_SECRET)


@pytest.fixture
def item_id(sessions: Any) -> int:
    with transaction(sessions) as s:
        s.add(Account(name="support", kind="dropfolder", address="support@example.test", project="IT", config={}))
        item = Item(type="incident", number=7, project="IT", title="Printer jammed", account="support")
        s.add(item)
        s.flush()
        return item.id


def event(item_id: int, *, subject: str = "Printer jammed", classification: Classification | None = None,
          auto_reply: bool = True, sender: str = "ada@example.com", account: str = "support") -> Envelope[Any]:
    payload = ItemChanged(
        change="created", account=account, auto_reply=auto_reply,
        item=ItemSummary(id=item_id, type="incident", number=7, title="Printer jammed", status="new", project="IT"),
        mail=MailSummary(message_id="<p1@example.com>", subject=subject, from_=Address(name="Ada", address=sender),
                         references=["<p1@example.com>"], classification=classification or Classification()))
    return Envelope.first(payload)


def handler_for(sessions: Any, port: int, **settings: Any) -> Notifier:
    s = NotifierSettings(smtp_host="127.0.0.1", smtp_port=port, token_secret=TOKEN_SECRET, **settings)
    senders = SenderPool(s, "", SecretBox([]))
    replies = ReplySender(sessions, senders, TOKENS, FilesystemBlobStore(Path(tempfile.mkdtemp())), "postroom; test")
    waits = Waits(sessions, s.max_send_age, Topology(outage_delays=TEST_OUTAGE_DELAYS).outage_delay)
    return Notifier(sessions=sessions, senders=senders, governor=Governor(s.governor_policy(), TOKENS),
                    templates=MailTemplates(), tokens=TOKENS, own_addresses=(), loop_id="postroom; test", replies=replies,
                    console_url=s.console_url, waits=waits)


def outbox(sessions: Any) -> list[OutboundMail]:
    with sessions() as s:
        return list(s.scalars(select(OutboundMail).order_by(OutboundMail.id)))


def test_an_auto_reply_goes_once_even_when_the_event_is_delivered_again(
        sessions: Any, item_id: int, smtp_server: tuple[RecordingHandler, int]) -> None:
    server, port = smtp_server
    handle = handler_for(sessions, port)
    env = event(item_id)
    handle(env)
    handle(env)
    assert len(server.received) == 1
    msg = server.received[0].message
    assert msg["Subject"] == "[#7] Printer jammed"
    assert msg["X-Auto-Response-Suppress"] == "All" and msg["Auto-Submitted"] == "auto-replied"
    assert TOKENS.items_in_message_id(msg["Message-ID"], msg["To"].addresses[0].addr_spec) == [
        ("incident", 7, True, True)]
    assert TOKENS.items_in_message_id(msg["Message-ID"], "stranger@elsewhere.example") == [
        ("incident", 7, False, False)]
    [row] = outbox(sessions)
    assert (row.status, row.message_id) == ("sent", msg["Message-ID"])


def history(sessions: Any) -> list[ItemMail]:
    with sessions() as s:
        return list(s.scalars(select(ItemMail).where(ItemMail.direction == "out").order_by(ItemMail.id)))


def test_a_sent_mail_is_marked_sent_and_joins_the_items_history_with_what_was_sent(
        sessions: Any, item_id: int, smtp_server: tuple[RecordingHandler, int]) -> None:
    server, port = smtp_server
    handler_for(sessions, port)(event(item_id))
    msg = server.received[0].message
    [row], [mail] = outbox(sessions), history(sessions)
    assert (row.status, row.reason, row.subject) == ("sent", "", "[#7] Printer jammed") and row.sent_at is not None
    assert (mail.item_id, mail.item_type, mail.account, mail.message_id) == (item_id, "incident", "support",
                                                                             msg["Message-ID"])
    assert (mail.subject, mail.from_address, mail.from_name) == ("[#7] Printer jammed", "support@example.test", "")
    plain = msg.get_body(("plain",)).get_content().replace("\r\n", "\n")
    assert mail.text.startswith("Hello Ada,") and mail.text == plain
    assert (mail.classification, mail.matched_by) == ("auto-reply", "sent by the notifier to ada@example.com")
    assert (mail.outputs, mail.decision) == ({}, {}) and mail.created_at is not None


def test_each_completion_is_committed_on_its_own_and_to_disk_and_its_connection_goes_back_as_it_came(
        sessions: Any) -> None:
    """On PostgreSQL a batch's completions run in autocommit with the server's durable default: each
    is on disk before the next send, whatever happens to the batch after."""
    from services.notifier.outbox import completions

    engine = sessions.kw["bind"]
    if engine.dialect.name != "postgresql":
        pytest.skip("SQLite's completions commit in their own transaction; nothing to check per connection")
    with completions(engine) as conn:
        assert conn.exec_driver_sql("SHOW synchronous_commit").scalar() == "on"
        assert conn.connection.driver_connection.autocommit
        conn.exec_driver_sql("CREATE TEMP TABLE probe (n int)")
        conn.exec_driver_sql("INSERT INTO probe VALUES (1)")
        assert conn.exec_driver_sql("SELECT pg_current_xact_id_if_assigned()").scalar() is None  # no open transaction
    engine.pool.dispose()  # a fresh pool would hide a leak: take the same connection back instead
    with completions(engine) as conn:
        pid = conn.exec_driver_sql("SELECT pg_backend_pid()").scalar()
    with engine.connect() as conn:
        assert conn.exec_driver_sql("SELECT pg_backend_pid()").scalar() == pid
        assert not conn.connection.driver_connection.autocommit


def test_a_send_interrupted_before_it_was_recorded_goes_again_with_the_same_message_id(
        sessions: Any, item_id: int, smtp_server: tuple[RecordingHandler, int]) -> None:
    server, port = smtp_server
    env = event(item_id)
    unreachable = handler_for(sessions, 1)
    with pytest.raises(RetryLater, match="SMTP"):
        unreachable(env)  # the outbox row is written, the send never completed
    [pending] = outbox(sessions)
    assert pending.status == "pending"
    handler_for(sessions, port)(env)
    assert [r.message["Message-ID"] for r in server.received] == [pending.message_id]
    assert outbox(sessions)[0].status == "sent"


@pytest.mark.parametrize("headers_kind", ["auto-reply", "bulk", "list", "bounce", "own-loop"])
def test_automatic_mail_gets_no_auto_reply_and_the_suppression_is_recorded(
        sessions: Any, item_id: int, smtp_server: tuple[RecordingHandler, int], headers_kind: str) -> None:
    server, port = smtp_server
    handler_for(sessions, port)(event(item_id, classification=Classification(kind=headers_kind, reason="test")))
    assert server.received == []
    [row] = outbox(sessions)
    assert row.status == "suppressed" and headers_kind in row.reason


@pytest.mark.parametrize("sender", ["MAILER-DAEMON@example.com", "no-reply@example.com", "support@example.test"])
def test_mail_systems_and_our_own_address_get_no_auto_reply(
        sessions: Any, item_id: int, smtp_server: tuple[RecordingHandler, int], sender: str) -> None:
    server, port = smtp_server
    handler_for(sessions, port)(event(item_id, sender=sender))
    assert server.received == []
    assert outbox(sessions)[0].status == "suppressed"


def test_a_subject_with_line_breaks_gives_one_subject_header_and_no_extra_recipient(
        sessions: Any, item_id: int, smtp_server: tuple[RecordingHandler, int]) -> None:
    server, port = smtp_server
    handler_for(sessions, port)(event(item_id, subject="Help\r\nBcc: victim@example.org\r\nX-Evil: 1"))
    [sent] = server.received
    assert sent.rcpt_tos == ["ada@example.com"]
    assert sent.data.count(b"\nSubject:") + sent.data.startswith(b"Subject:") == 1
    assert sent.message["Bcc"] is None and sent.message["X-Evil"] is None


class RefusingHandler(RecordingHandler):
    def __init__(self, code: str) -> None:
        super().__init__()
        self.code = code

    async def handle_RCPT(self, server: Any, session: Any, envelope: Any, address: str, options: Any) -> str:  # noqa: N802
        return self.code


@pytest.mark.parametrize(("code", "outcome"), [("550 5.1.1 no such user", "failed"), ("451 4.3.0 try later", "retry")])
def test_a_permanent_refusal_is_recorded_and_a_temporary_one_is_retried(
        sessions: Any, item_id: int, code: str, outcome: str) -> None:
    from aiosmtpd.controller import Controller

    from tests.support.servers import free_port

    port = free_port()
    controller = Controller(RefusingHandler(code), hostname="127.0.0.1", port=port)
    controller.start()
    try:
        handle = handler_for(sessions, port)
        if outcome == "retry":
            with pytest.raises(RetryLater, match="451"):
                handle(event(item_id))
            assert outbox(sessions)[0].status == "pending"
        else:
            assert handle(event(item_id)) == []
            [row] = outbox(sessions)
            assert row.status == "failed" and "550" in row.reason and row.sent_at is None
            assert history(sessions) == []  # only a sent mail joins the item's history
    finally:
        controller.stop()


class WatchingHandler(RecordingHandler):
    """Defers one recipient (451) and notes, at each accepted mail, the outbox as the database has it."""

    def __init__(self, sessions: Any, deferred: str) -> None:
        super().__init__()
        self.sessions, self.deferred = sessions, deferred
        self.outbox_seen: list[list[str]] = []

    async def handle_RCPT(self, server: Any, session: Any, envelope: Any, address: str, options: Any) -> str:  # noqa: N802
        if address == self.deferred:
            return "451 4.3.0 try later"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802
        self.outbox_seen.append(sorted(f"{r.recipient}:{r.status}" for r in outbox(self.sessions)))
        return await super().handle_DATA(server, session, envelope)


def test_a_batch_records_every_intent_before_sending_and_each_completion_after_its_send(
        sessions: Any, item_id: int) -> None:
    """An event of the batch whose recipient is deferred is retried; its batch-mates are sent once, and
    the unknown account's event is rejected without stopping them."""
    from aiosmtpd.controller import Controller

    from shared.errors import Reject
    from tests.support.servers import free_port

    port = free_port()
    server = WatchingHandler(sessions, "bob@example.com")
    controller = Controller(server, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        handle = handler_for(sessions, port)
        batch = [event(item_id, sender="ada@example.com"), event(item_id, sender="bob@example.com"),
                 event(item_id, sender="eve@example.com", account="nobody"),  # an account since deleted
                 event(item_id, sender="cy@example.com")]
        results = handle.handle_batch(batch)
        assert [type(r).__name__ for r in results] == ["list", "WaitOut", "Reject", "list"]
        assert isinstance(results[2], Reject) and "unknown account 'nobody'" in str(results[2])
        # Every intent was committed before the first send; each completion right after its send.
        assert server.outbox_seen == [
            ["ada@example.com:pending", "bob@example.com:pending", "cy@example.com:pending"],
            ["ada@example.com:sent", "bob@example.com:pending", "cy@example.com:pending"]]
        assert [r.rcpt_tos for r in server.received] == [["ada@example.com"], ["cy@example.com"]]
        assert [(r.recipient, r.status) for r in outbox(sessions)] == [
            ("ada@example.com", "sent"), ("bob@example.com", "pending"), ("cy@example.com", "sent")]

        server.deferred = ""
        assert handle.handle_batch(batch[:2]) == [[], []]  # the whole batch again: only bob's mail goes
        assert [r.rcpt_tos for r in server.received][2:] == [["bob@example.com"]]
        assert {r.status for r in outbox(sessions)} == {"sent"}
    finally:
        controller.stop()


def test_when_the_smtp_server_does_not_answer_the_rest_of_the_batch_waits_without_trying(sessions: Any,
                                                                                          item_id: int) -> None:
    """One connection failure defers the batch's other mail through that server; all stay pending, each
    with its last error and when it is tried next (its first outage rung)."""
    before = datetime.now(UTC)
    results = handler_for(sessions, 1).handle_batch([event(item_id, sender=f"u{i}@example.com") for i in range(3)])
    assert [type(r).__name__ for r in results] == ["WaitOut"] * 3
    assert "SMTP: ConnectionRefusedError" in str(results[0])
    assert all("an earlier send of account support in the same batch failed" in str(r) for r in results[1:])
    rows = outbox(sessions)
    assert [r.status for r in rows] == ["pending"] * 3
    assert "ConnectionRefusedError" in rows[0].reason and "an earlier send" in rows[1].reason
    for r in rows:
        due = as_utc(r.next_attempt_at)
        assert due is not None and before + timedelta(seconds=TEST_OUTAGE_DELAYS[0]) <= due
        assert due <= datetime.now(UTC) + timedelta(seconds=TEST_OUTAGE_DELAYS[0])


def test_an_event_whose_intent_fails_in_the_database_fails_its_batch_before_any_send_then_alone(
        sessions: Any, item_id: int, smtp_server: tuple[RecordingHandler, int]) -> None:
    """The batch's intents roll back together and nothing is sent; handled one by one, as the runner
    then does, its batch-mates go and only the failing event is retried."""
    from sqlalchemy.exc import IntegrityError

    server, port = smtp_server
    handle = handler_for(sessions, port)
    batch = [event(item_id, sender="ada@example.com"), event(999_999, sender="bob@example.com"),  # no such item
             event(item_id, sender="cy@example.com")]
    with pytest.raises(IntegrityError):
        handle.handle_batch(batch)
    assert server.received == [] and outbox(sessions) == []
    results: list[Any] = []
    for env in batch:
        try:
            results.append(handle(env))
        except RetryLater as exc:
            results.append(exc)
    assert [type(r).__name__ for r in results] == ["list", "RetryLater", "list"]
    assert [r.rcpt_tos for r in server.received] == [["ada@example.com"], ["cy@example.com"]]
    assert [(r.recipient, r.status) for r in outbox(sessions)] == [("ada@example.com", "sent"),
                                                                    ("cy@example.com", "sent")]
