"""Automatic mail, delivery failure reports, and the same mail arriving more than once."""

from __future__ import annotations

from sqlalchemy import select

from shared.contracts import DeliveryReport
from shared.db.models import Contact, ItemMail, OutboundMail
from tests.support.items import add, add_account, handle, item, item_count, mail, mails_of, our_message_id


def _we_wrote(sessions, number: int, to: str) -> str:  # type: ignore[no-untyped-def]
    """Record an auto-reply the notifier sent about item ``number``; return its Message-ID."""
    found = item(sessions, number)
    mid = our_message_id(number)
    add(sessions, OutboundMail(event_id=f"e{number}", recipient=to, kind="auto-reply", item_id=found.id,
                               account="support", message_id=mid, subject="[#1] Printer", status="sent"),
        ItemMail(item_id=found.id, item_type=found.type, direction="out", account="support", message_id=mid,
                 classification="auto-reply", matched_by="sent by the notifier"))
    return mid


def _failed(address: str) -> DeliveryReport:
    return DeliveryReport(final_recipient=address, action="failed", status="5.1.1",
                          diagnostic="smtp; 550 5.1.1 no such user")


def test_a_delivery_failure_of_our_mail_is_recorded_on_its_item_and_flags_the_address(sessions) -> None:  # type: ignore[no-untyped-def]
    add_account(sessions, default_values={"step": "done"})
    handle(sessions, mail(sender="alice@customer.example"))
    ours = _we_wrote(sessions, 1, "alice@customer.example")
    event = handle(sessions, mail(sender="MAILER-DAEMON@mx.customer.example", kind="bounce",
                                  subject="Undelivered Mail Returned to Sender", bounce_of=ours,
                                  delivery_reports=[_failed("alice@customer.example")]))
    assert (event.change, event.item.number, event.delivery_failure) == ("appended", 1, True)
    assert event.failing_addresses == ["alice@customer.example"]
    assert (event.auto_reply, event.notify, event.status_change) == (False, [], None)
    assert event.item.status == "closed"  # not a customer's reply: the closed item stays closed
    with sessions() as session:
        contact = session.scalar(select(Contact).where(Contact.email == "alice@customer.example"))
    assert contact.failing and ours in contact.failing_reason
    assert mails_of(sessions, event.item.id)[-1].matched_by.startswith(f"delivery-failure: our mail {ours}: 1 flagged")


def test_a_delivery_failure_naming_our_mail_only_in_its_thread_headers_is_recognised(sessions) -> None:  # type: ignore[no-untyped-def]
    add_account(sessions)
    handle(sessions, mail())
    handle(sessions, mail(subject="another"))
    ours = _we_wrote(sessions, 2, "bob@customer.example")
    event = handle(sessions, mail(sender="postmaster@customer.example", kind="bounce", references=[ours],
                                  delivery_reports=[_failed("Bob@Customer.example")]))
    assert (event.item.number, event.delivery_failure, event.failing_addresses) == (2, True, ["bob@customer.example"])


def test_a_bounce_without_a_delivery_report_is_recorded_on_its_item_and_flags_nobody(sessions) -> None:  # type: ignore[no-untyped-def]
    """A bounce in plain text (no RFC 3464 report) does not say which address failed, or for good."""
    add_account(sessions)
    handle(sessions, mail())
    ours = _we_wrote(sessions, 1, "alice@customer.example")
    event = handle(sessions, mail(sender="MAILER-DAEMON@mx.customer.example", kind="bounce", bounce_of=ours))
    assert (event.item.number, event.delivery_failure, event.failing_addresses) == (1, True, [])
    assert "nobody flagged" in mails_of(sessions, event.item.id)[-1].matched_by
    with sessions() as session:
        assert session.scalar(select(Contact).where(Contact.email == "alice@customer.example", Contact.failing)) is None


def test_a_bounce_about_no_mail_of_ours_becomes_an_automatic_item(sessions) -> None:  # type: ignore[no-untyped-def]
    add_account(sessions)
    event = handle(sessions, mail(sender="mailer-daemon@elsewhere.example", kind="bounce"))
    assert (event.change, event.delivery_failure) == ("created", False)
    assert item(sessions, 1).automatic is True


def test_an_automatic_reply_joins_its_item_marked_automatic_without_reopening_it(sessions) -> None:  # type: ignore[no-untyped-def]
    add_account(sessions, default_values={"step": "done"})
    handle(sessions, mail())
    event = handle(sessions, mail(kind="auto-reply", subject="Out of office", in_reply_to=our_message_id(1)))
    assert (event.change, event.item.status, event.status_change) == ("appended", "closed", None)
    assert [m.classification for m in item(sessions, 1).mails] == ["human", "auto-reply"]


def test_the_same_mail_twice_changes_nothing_the_second_time(sessions) -> None:  # type: ignore[no-untyped-def]
    add_account(sessions, reply_status="waiting")
    handle(sessions, mail())
    reply = mail(in_reply_to=our_message_id(1))
    first = handle(sessions, reply)
    again = handle(sessions, reply)
    assert again == first
    assert len(item(sessions, 1).mails) == 2 and item_count(sessions) == 1


def test_one_mail_through_two_accounts_of_the_same_type_makes_one_item(sessions) -> None:  # type: ignore[no-untyped-def]
    add_account(sessions, "support")
    add_account(sessions, "sales")
    first = handle(sessions, mail(account="support", message_id="<both@customer.example>"))
    second = handle(sessions, mail(account="sales", message_id="<both@customer.example>"))
    assert second == first
    assert item_count(sessions) == 1 and len(item(sessions, 1).mails) == 1


def test_one_mail_through_accounts_of_different_types_makes_an_item_of_each(sessions) -> None:  # type: ignore[no-untyped-def]
    add_account(sessions, "support")
    add_account(sessions, "bugs", item_type="defect")
    handle(sessions, mail(account="support", message_id="<both@customer.example>"))
    handle(sessions, mail(account="bugs", message_id="<both@customer.example>"))
    assert (item(sessions, 1).type, item(sessions, 1, "defect").type) == ("incident", "defect")
    assert item_count(sessions) == 2
