"""RFC 3834 through the pipeline: a real mail is parsed, written as an item and handed to the notifier,
against PostgreSQL and aiosmtpd. List mail, X-Loop mail and mail to or from list software's
addresses get no auto-reply, and the suppression is recorded in the outbox with its reason."""

from __future__ import annotations

import tempfile
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from services.itemwriter.handlers import make_handler
from services.notifier.governor import Governor
from services.notifier.handlers import Notifier
from services.notifier.replies import ReplySender
from services.notifier.senders import SenderPool
from services.notifier.settings import NotifierSettings
from services.notifier.waits import Waits
from shared.templates import MailTemplates
from services.parser.handlers import normalize
from services.parser.limits import Limits
from shared.contracts import BlobRef, Envelope, MailFetched
from shared.db.models import OutboundMail
from shared.secrets import SecretBox
from shared.store import FilesystemBlobStore
from tests.support.items import TOKENS, add_account
from tests.support.smtp import RecordingHandler
from tests.support.pipeline import TOKEN_SECRET

HEAD = "From: {sender}\r\nTo: support@ours.example\r\nSubject: Printer jammed\r\nMessage-ID: <{n}@customer.example>\r\n"


def _mail_through_the_pipeline(sessions: Any, port: int, raw: str) -> list[OutboundMail]:
    """Parse, write the item, notify: the outbox rows the notifier wrote for this mail."""
    fetched = MailFetched(account="support", source="stdin", source_id=raw[-40:], received_at=datetime.now(UTC),
                          raw=BlobRef(key="sha256:" + "a" * 64, size=len(raw), sha256="a" * 64))
    parsed = normalize(raw.encode(), fetched, None, TOKENS, Limits())
    [changed] = make_handler(sessions)(Envelope.first(parsed))
    settings = NotifierSettings(smtp_host="127.0.0.1", smtp_port=port, token_secret=TOKEN_SECRET)
    senders = SenderPool(settings, "", SecretBox([]))
    replies = ReplySender(sessions, senders, TOKENS, FilesystemBlobStore(Path(tempfile.mkdtemp())), "postroom; test")
    notifier = Notifier(sessions=sessions, senders=senders, governor=Governor(settings.governor_policy(), TOKENS),
                        templates=MailTemplates(), tokens=TOKENS, own_addresses=(), loop_id="postroom; test",
                        replies=replies, waits=Waits(sessions, settings.max_send_age, lambda attempt: 5.0))
    notifier(changed)
    with sessions() as s:
        return list(s.scalars(select(OutboundMail).where(OutboundMail.kind == "auto-reply")
                              .order_by(OutboundMail.id)))


def _raw(extra: str, sender: str = "Ann <ann@customer.example>", n: int = 1) -> str:
    return HEAD.format(sender=sender, n=n) + extra + "\r\nThe printer is jammed again.\r\n"


def test_a_persons_mail_gets_its_auto_reply(sessions: Any, smtp_server: tuple[RecordingHandler, int]) -> None:
    """The pipeline of these tests does send: what the others show suppressed is the rule's doing."""
    server, port = smtp_server
    add_account(sessions)
    [row] = _mail_through_the_pipeline(sessions, port, _raw(""))
    assert row.status == "sent" and [r.rcpt_tos for r in server.received] == [["ann@customer.example"]]


@pytest.mark.parametrize(("fields", "reason"), [
    ("List-Id: Users <users.lists.example.org>\r\n", "List-Id"),
    ("List-Help: <mailto:users-request@lists.example.org?subject=help>\r\n", "List-Help"),
    ("List-Archive: <https://lists.example.org/archives/users>\r\n", "List-Archive"),
    ("List-Subscribe: <mailto:users-join@lists.example.org>\r\n", "List-Subscribe"),
    ("List-Unsubscribe: <mailto:users-leave@lists.example.org>\r\n", "List-Unsubscribe"),
    ("List-Post: <mailto:users@lists.example.org>\r\n", "List-Post"),
    ("List-Owner: <mailto:users-owner@lists.example.org>\r\n", "List-Owner"),
    ("X-Loop: helpdesk@elsewhere.example\r\n", "X-Loop"),
    ("X-Loop: rt.customer.example\r\nX-Loop: procmail\r\n", "X-Loop"),
])
def test_list_and_x_loop_mail_gets_no_auto_reply_and_the_reason_is_recorded(
        sessions: Any, smtp_server: tuple[RecordingHandler, int], fields: str, reason: str) -> None:
    """Each List-* field alone, and X-Loop: nothing sent, the outbox row says which field decided."""
    server, port = smtp_server
    add_account(sessions)
    [row] = _mail_through_the_pipeline(sessions, port, _raw(fields))
    assert server.received == []
    assert row.status == "suppressed" and "the mail is automatic" in row.reason and reason in row.reason


@pytest.mark.parametrize(("sender", "reply_to"), [
    ("owner-users@lists.example.org", ""),
    ("OWNER-announce@listserv.example.edu", ""),
    ("users-request@lists.example.org", ""),
    ("users-request@lists.example.org", "Reply-To: Ann <ann@customer.example>\r\n"),
    ("users-bounces@lists.example.org", ""),
    ("users-bounces+ann=customer.example@lists.example.org", ""),
    ("news-bounce@shop.example", ""),
    ("Ann <ann@customer.example>", "Reply-To: users-request@lists.example.org\r\n"),
])
def test_mail_to_or_from_list_software_gets_no_auto_reply_and_the_reason_is_recorded(
        sessions: Any, smtp_server: tuple[RecordingHandler, int], sender: str, reply_to: str) -> None:
    """owner-*, *-request, *-bounces and *-bounce, as the sender or where the reply would go."""
    server, port = smtp_server
    add_account(sessions)
    [row] = _mail_through_the_pipeline(sessions, port, _raw(reply_to, sender))
    assert server.received == []
    assert row.status == "suppressed" and "is a mailing list's address" in row.reason
