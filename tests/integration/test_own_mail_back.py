"""Our own mail coming back, through the pipeline (parser handler, itemwriter, notifier) against the
database and aiosmtpd: the auto-reply we sent, delivered back to us, is held back by the itemwriter
(``postroom held list``, rule ``own-mail``) and counted, never appended; an ``X-Postroom-Loop``
header we did not sign changes nothing."""

from __future__ import annotations

import re
import tempfile
from pathlib import Path
from typing import Any

import pytest
from prometheus_client import REGISTRY
from sqlalchemy import select

from services.notifier.governor import Governor
from services.notifier.handlers import Notifier
from services.notifier.replies import ReplySender
from services.notifier.senders import SenderPool
from services.notifier.settings import NotifierSettings
from services.notifier.waits import Waits
from shared.templates import MailTemplates
from shared.contracts import Envelope, MailParsed
from shared.db.models import HeldMail, ItemMail, OutboundMail
from shared.secrets import SecretBox
from shared.store import FilesystemBlobStore
from tests.support.items import TOKENS, add_account, item, item_count, through_parser
from tests.support.pipeline import TOKEN_SECRET
from tests.support.smtp import RecordingHandler

LOOP_ID = "postroom; default"


def _customer_mail(n: int, extra: str = "") -> bytes:
    return (f"From: Ann <ann@customer.example>\r\nTo: support@ours.example\r\nSubject: Printer jammed {n}\r\n"
            f"Message-ID: <{n}.jam@customer.example>\r\n{extra}\r\nThe printer is jammed again.\r\n").encode()


class Pipeline:
    def __init__(self, sessions: Any, port: int, root: Path) -> None:
        self.sessions, self.store = sessions, FilesystemBlobStore(root / "blobs")
        settings = NotifierSettings(smtp_host="127.0.0.1", smtp_port=port, token_secret=TOKEN_SECRET)
        senders = SenderPool(settings, "", SecretBox([]))
        self.notifier = Notifier(
            sessions=sessions, senders=senders, governor=Governor(settings.governor_policy(), TOKENS),
            templates=MailTemplates(), tokens=TOKENS, own_addresses=(), loop_id=LOOP_ID,
            replies=ReplySender(sessions, senders, TOKENS, self.store, LOOP_ID),
            waits=Waits(sessions, settings.max_send_age, lambda attempt: 5.0))

    def arrive(self, raw: bytes) -> list[Any]:
        """Parse, write, notify: what the itemwriter made of the mail (nothing when it held it back)."""
        self.parsed: list[MailParsed] = []
        changed = through_parser(self.sessions, self.store, TOKENS, raw, parsed=self.parsed)
        for event in changed:
            self.notifier(Envelope.first(event))
        return changed


@pytest.fixture
def pipeline(sessions: Any, smtp_server: tuple[RecordingHandler, int]) -> Pipeline:
    add_account(sessions)
    return Pipeline(sessions, smtp_server[1], Path(tempfile.mkdtemp()))


def _dropped() -> float:
    return REGISTRY.get_sample_value("postroom_mails_held_total", {"account": "support", "rule": "own-mail"}) or 0.0


def _auto_replies(sessions: Any) -> list[OutboundMail]:
    with sessions() as s:
        return list(s.scalars(select(OutboundMail).where(OutboundMail.kind == "auto-reply").order_by(OutboundMail.id)))


def test_our_auto_reply_delivered_back_to_us_is_dropped_and_counted_not_appended(
        pipeline: Pipeline, smtp_server: tuple[RecordingHandler, int]) -> None:
    """The customer's server sends our auto-reply back (a forward, an alias that lands in our
    mailbox): it carries our signed loop header, so the itemwriter holds it back instead of appending."""
    server, _ = smtp_server
    [created] = pipeline.arrive(_customer_mail(1))
    [sent] = server.received
    assert "sig=" in sent.message["X-Postroom-Loop"] and sent.message["X-Postroom-Loop"].startswith(LOOP_ID)
    before, mails_before = _dropped(), len(item(pipeline.sessions, created.item.number).mails)
    back = b"Received: from mx.customer.example by mx.ours.example; Thu, 3 Dec 2026 09:00:00 +0000\r\n" \
           b"Delivered-To: support@ours.example\r\n" + sent.data
    assert pipeline.arrive(back) == []
    assert _dropped() == before + 1
    with pipeline.sessions() as session:
        [held] = session.scalars(select(HeldMail)).all()
        assert held.rule == "own-mail" and held.account == "support"
    assert item_count(pipeline.sessions) == 1
    assert len(item(pipeline.sessions, created.item.number).mails) == mails_before
    assert len(server.received) == 1 and len(_auto_replies(pipeline.sessions)) == 1


def _copied_loop_header(pipeline: Pipeline, server: RecordingHandler) -> str:
    """The loop header of a real auto-reply of ours, as anyone who got one can copy it."""
    pipeline.arrive(_customer_mail(90))
    return str(server.received[-1].message["X-Postroom-Loop"])


@pytest.mark.parametrize("header", [
    "unsigned",  # what the notifier wrote before it signed its loop header
    "made-up signature",
    "copied from our mail onto another",
])
def test_a_loop_header_we_did_not_sign_is_ignored_the_mail_is_a_persons(
        pipeline: Pipeline, smtp_server: tuple[RecordingHandler, int], header: str) -> None:
    """Written by a stranger, a loop header that silenced the auto-reply would let them stop ours
    to a real person: the mail becomes an item as any other, gets its auto-reply, and the header is
    noted as a defect. Nothing is counted as our own mail."""
    server, _ = smtp_server
    value = {"unsigned": LOOP_ID, "made-up signature": f"{LOOP_ID}; sig=0123456789abcdef"}.get(header) \
        or _copied_loop_header(pipeline, server)
    assert header != "copied from our mail onto another" or re.search(r"sig=[0-9a-f]{16}", value)
    before, sent_before, items_before = _dropped(), len(server.received), item_count(pipeline.sessions)
    [event] = pipeline.arrive(_customer_mail(2, f"X-Postroom-Loop: {value}\r\n"))
    assert event.change == "created" and item_count(pipeline.sessions) == items_before + 1
    assert _dropped() == before
    assert len(server.received) == sent_before + 1
    assert _auto_replies(pipeline.sessions)[-1].status == "sent"
    with pipeline.sessions() as s:
        row = s.scalars(select(ItemMail).where(ItemMail.message_id == "<2.jam@customer.example>")).one()
    assert row.classification == "human"
    [parsed] = pipeline.parsed
    assert "X-Postroom-Loop not signed by us: ignored" in parsed.defects
