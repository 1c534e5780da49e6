"""Delivery status notifications as mail servers write them, parsed by the parser and written by the
itemwriter: only a permanent failure (Action: failed, 5.x.x) flags an address, and only an address
the report names; a delayed report is noted on the item and flags nobody."""

from __future__ import annotations

import zlib
from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy import select

from services.app.replies import delivery
from services.itemwriter.handlers import make_handler
from services.parser.handlers import normalize
from services.parser.limits import Limits
from shared.contracts import BlobRef, Envelope, ItemChanged, MailFetched
from shared.db.models import Contact, Item, ItemMail, OutboundMail
from tests.support.corpus import CORPUS
from tests.support.items import TOKENS, add, add_account, handle, item, mail, mails_of, our_message_id

ALICE, BOB = "alice@customer.example", "bob@customer.example"


def _we_wrote(sessions: Any, to: list[str], number: int = 1, mid: str | None = None) -> str:
    """Our reply about item ``number`` to everyone in ``to`` (one Message-ID, a row per recipient)."""
    found = item(sessions, number)
    mid = mid or our_message_id(number, to=None)
    add(sessions, *[OutboundMail(event_id=f"reply-{number}", recipient=address, kind="reply", item_id=found.id,
                                 account="support", message_id=mid, subject="Re: [#1] Printer", status="sent")
                    for address in to])
    return mid


def _postfix_dsn(ours: str, *recipients: tuple[str, str, str], subject: str = "Undelivered Mail Returned to Sender",
                 warning: bool = False) -> bytes:
    """A report as Postfix writes it: a text part, the per-recipient fields, our mail's headers."""
    blocks = "".join(
        f"\r\nFinal-Recipient: rfc822; {address}\r\nOriginal-Recipient: rfc822;{address}\r\nAction: {action}\r\n"
        f"Status: {status}\r\nRemote-MTA: dns; mx.customer.example\r\n"
        f"Diagnostic-Code: smtp; {status[0]}50 {status} {'try again later' if action == 'delayed' else 'no such user'}"
        "\r\n" + ("Will-Retry-Until: Fri, 4 Dec 2026 09:00:00 +0000 (UTC)\r\n" if action == "delayed" else "")
        for address, action, status in recipients)
    text = ("####### THIS IS A WARNING ONLY.  YOU DO NOT NEED TO RESEND YOUR MESSAGE. #######\r\n" if warning else
            "I'm sorry to have to inform you that your message could not be delivered.\r\n")
    return (
        "Return-Path: <>\r\nFrom: MAILER-DAEMON@mx.ours.example (Mail Delivery System)\r\n"
        f"Subject: {subject}\r\nTo: support@ours.example\r\nAuto-Submitted: auto-replied\r\n"
        f"Message-ID: <20261202101010.{zlib.crc32(blocks.encode())}@mx.ours.example>\r\nDate: Wed, 2 Dec 2026 10:10:10 +0000 (UTC)\r\n"
        "MIME-Version: 1.0\r\n"
        'Content-Type: multipart/report; report-type=delivery-status; boundary="4F2C1.1764670210/mx.ours.example"\r\n'
        "\r\nThis is a MIME-encapsulated message.\r\n\r\n--4F2C1.1764670210/mx.ours.example\r\n"
        "Content-Description: Notification\r\nContent-Type: text/plain; charset=us-ascii\r\n\r\n"
        f"This is the mail system at host mx.ours.example.\r\n\r\n{text}\r\n"
        "--4F2C1.1764670210/mx.ours.example\r\nContent-Description: Delivery report\r\n"
        "Content-Type: message/delivery-status\r\n\r\nReporting-MTA: dns; mx.ours.example\r\n"
        "X-Postfix-Queue-ID: 4F2C1\r\nArrival-Date: Wed, 2 Dec 2026 09:00:00 +0000 (UTC)\r\n"
        f"{blocks}\r\n--4F2C1.1764670210/mx.ours.example\r\nContent-Description: Undelivered Message Headers\r\n"
        "Content-Type: text/rfc822-headers\r\n\r\nFrom: support@ours.example\r\nSubject: Re: [#1] Printer\r\n"
        f"Message-ID: {ours}\r\n\r\n--4F2C1.1764670210/mx.ours.example--\r\n").encode()


def _received(sessions: Any, raw: bytes) -> ItemChanged:
    """The report through the real parser and the real itemwriter."""
    fetched = MailFetched(account="support", source="stdin", source_id=f"dsn-{zlib.crc32(raw)}",
                          received_at=datetime.now(UTC), raw=BlobRef(key="sha256:" + "b" * 64, size=len(raw),
                                                                     sha256="b" * 64))
    parsed = normalize(raw, fetched, None, TOKENS, Limits())
    assert parsed.classification.kind == "bounce"
    [changed] = make_handler(sessions)(Envelope.first(parsed))
    return changed.payload  # type: ignore[no-any-return]


def _failing(sessions: Any) -> list[str]:
    with sessions() as session:
        return sorted(session.scalars(select(Contact.email).where(Contact.failing)))


def test_a_permanent_failure_for_one_of_two_recipients_flags_only_that_one(sessions: Any) -> None:
    """Our reply went to Alice and Bob; the report says Alice's address does not exist."""
    add_account(sessions)
    handle(sessions, mail(sender=ALICE))
    ours = _we_wrote(sessions, [ALICE, BOB])
    event = _received(sessions, _postfix_dsn(ours, (ALICE, "failed", "5.1.1")))
    assert (event.item.number, event.delivery_failure, event.failing_addresses) == (1, True, [ALICE])
    assert _failing(sessions) == [ALICE]
    with sessions() as session:
        reason = session.scalar(select(Contact.failing_reason).where(Contact.email == ALICE))
    assert ours in reason and "5.1.1" in reason and "no such user" in reason
    recorded = mails_of(sessions, event.item.id)[-1]
    assert recorded.classification == "bounce"
    assert recorded.matched_by.startswith(f"delivery-failure: our mail {ours}: 1 flagged")
    assert recorded.decision["delivery_reports"] == [
        {"recipient": ALICE, "action": "failed", "status": "5.1.1", "verdict": "permanent", "flagged": "yes"}]


def test_a_report_from_the_corpus_flags_only_the_addresses_our_mail_went_to(sessions: Any) -> None:
    """A real Postfix report naming five failed Gmail addresses, about a mail of ours that went to one
    of them and to a colleague: the one is flagged; the four we never wrote to and the colleague are not."""
    raw = (CORPUS / "mikel-mail" / "multipart_report_emails" / "multi_address_bounce1.eml").read_bytes()
    add_account(sessions)
    handle(sessions, mail(sender=ALICE))
    _we_wrote(sessions, ["bbbbvhvbbvkjbhfbvbvjhb@gmail.com", "colleague@ll.example"],
              mid="<118707422.15521266992174819.JavaMail.root@lvmail01>")
    event = _received(sessions, raw)
    assert event.failing_addresses == ["bbbbvhvbbvkjbhfbvbvjhb@gmail.com"]
    assert _failing(sessions) == ["bbbbvhvbbvkjbhfbvbvjhb@gmail.com"]
    lines = mails_of(sessions, event.item.id)[-1].decision["delivery_reports"]
    assert [line["flagged"] for line in lines] == ["yes"] + ["no: our mail did not go to this address"] * 4


def test_a_delayed_report_is_noted_on_the_item_and_flags_nobody(sessions: Any) -> None:
    """Postfix's "still being retried" warning (Action: delayed, 4.4.1): on the item, nobody flagged,
    the item untouched, and our reply not shown as bounced."""
    add_account(sessions, default_values={"step": "done"})
    handle(sessions, mail(sender=ALICE))
    ours = _we_wrote(sessions, [ALICE, BOB])
    event = _received(sessions, _postfix_dsn(ours, (ALICE, "delayed", "4.4.1"), (BOB, "delayed", "4.4.1"),
                                             subject="Delayed Mail (still being retried)", warning=True))
    assert (event.change, event.item.number, event.delivery_failure) == ("appended", 1, True)
    assert (event.failing_addresses, event.auto_reply, event.notify, event.status_change) == ([], False, [], None)
    assert _failing(sessions) == []
    recorded = mails_of(sessions, event.item.id)[-1]
    assert recorded.classification == "bounce" and recorded.subject == "Delayed Mail (still being retried)"
    assert recorded.matched_by.startswith(f"delivery-delayed: our mail {ours}: nobody flagged; {ALICE} delayed (4.4.1)")
    assert {line["verdict"] for line in recorded.decision["delivery_reports"]} == {"delayed"}
    assert item(sessions, 1).status == "closed"
    with sessions() as session:
        assert delivery(session, session.get_one(Item, event.item.id), "reply-1") == ("sent", "")


def test_a_permanent_failure_after_a_delay_shows_the_reply_as_bounced(sessions: Any) -> None:
    """The delayed warning first, then the failure: the reply's delivery state follows the failure."""
    add_account(sessions)
    handle(sessions, mail(sender=ALICE))
    ours = _we_wrote(sessions, [ALICE])
    _received(sessions, _postfix_dsn(ours, (ALICE, "delayed", "4.4.1"), warning=True))
    event = _received(sessions, _postfix_dsn(ours, (ALICE, "failed", "5.4.7")))
    with sessions() as session:
        state, why = delivery(session, session.get_one(Item, event.item.id), "reply-1")
    assert state == "bounced" and why.startswith("delivery-failure:")
    assert _failing(sessions) == [ALICE]


@pytest.mark.parametrize(("action", "status", "signal", "verdict"), [
    # Contradicts itself: the action says the server keeps trying, so it is a delay; nobody flagged.
    ("delayed", "5.7.1", "delivery-delayed", "delayed"),
    # The server gave up on a temporary failure (queue lifetime): our mail is lost, the address may be fine.
    ("failed", "4.4.7", "delivery-failure", "gave-up"),
    # Status is required (RFC 3464) and missing here: no proof of a permanent failure.
    ("failed", "", "delivery-failure", "gave-up"),
    ("delivered", "2.0.0", "delivery-report", "delivered"),
    ("relayed", "2.0.0", "delivery-report", "delivered"),
])
def test_a_report_that_is_not_a_permanent_failure_flags_nobody(sessions: Any, action: str, status: str,
                                                               signal: str, verdict: str) -> None:
    """Each such report is on the item with what it says; only failed with 5.x.x flags an address."""
    add_account(sessions)
    handle(sessions, mail(sender=ALICE))
    ours = _we_wrote(sessions, [ALICE])
    raw = _postfix_dsn(ours, (ALICE, action, status or "X"))
    if not status:
        raw = raw.replace(b"Status: X\r\n", b"")
    event = _received(sessions, raw)
    assert (event.item.number, event.failing_addresses) == (1, []) and _failing(sessions) == []
    recorded = mails_of(sessions, event.item.id)[-1]
    assert recorded.matched_by.startswith(f"{signal}: our mail {ours}: nobody flagged")
    assert [line["verdict"] for line in recorded.decision["delivery_reports"]] == [verdict]


def test_a_report_about_a_mail_only_in_the_items_history_is_recorded_and_flags_nobody(sessions: Any) -> None:
    """No outbox row says whom that mail went to: nothing confirms the address is one we wrote to."""
    add_account(sessions)
    found = handle(sessions, mail(sender=ALICE)).item
    ours = our_message_id(1, to=None)
    add(sessions, ItemMail(item_id=found.id, item_type="incident", direction="out", account="support",
                           message_id=ours, classification="human", matched_by="sent from elsewhere"))
    event = _received(sessions, _postfix_dsn(ours, (ALICE, "failed", "5.1.1")))
    assert (event.item.number, event.delivery_failure, event.failing_addresses) == (1, True, [])
    assert _failing(sessions) == []
    recorded = mails_of(sessions, event.item.id)[-1]
    assert recorded.decision["delivery_reports"][0]["flagged"] == "no: whom our mail went to is unknown"
