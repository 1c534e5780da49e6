"""Create or append: a mail joins an item only when it is recognised as a reply to it."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from shared.contracts import Address

from shared.db.models import Contact, Customer, ItemLink, ItemMail, ItemNotify
from tests.support.items import TRUSTED, add, add_account, handle, item, item_count, mail, our_message_id


def _notify(sessions, number: int, address: str) -> None:  # type: ignore[no-untyped-def]
    add(sessions, ItemNotify(item_id=item(sessions, number).id, address=address))


def test_a_reply_threading_to_our_signed_message_id_is_appended(sessions) -> None:  # type: ignore[no-untyped-def]
    add_account(sessions)
    handle(sessions, mail())
    event = handle(sessions, mail(sender="someone@else.example", subject="Re: hi",
                                  in_reply_to=our_message_id(1, to="someone@else.example")))
    assert (event.change, event.item.number, event.matched_by) == ("appended", 1, "signed-token")


@pytest.mark.parametrize("thread", ["in_reply_to", "references"])
@pytest.mark.parametrize("stranger", ["mallory@elsewhere.example", "bob@customer-lookalike.example"])
def test_a_token_forwarded_to_a_stranger_opens_nothing(sessions, thread, stranger) -> None:  # type: ignore[no-untyped-def]
    """Our token was issued to alice: anyone else holding it gets a new item, a possible follow-up."""
    add_account(sessions)
    handle(sessions, mail())
    refs = {"in_reply_to": our_message_id(1)} if thread == "in_reply_to" else {"references": [our_message_id(1)]}
    event = handle(sessions, mail(sender=stranger, subject="Re: Printer on fire", **refs))
    assert (event.change, event.item.number) == ("created", 2)


def test_a_token_of_the_first_shape_opens_the_item_only_to_someone_on_it(sessions) -> None:  # type: ignore[no-untyped-def]
    add_account(sessions)
    handle(sessions, mail())
    stranger = handle(sessions, mail(sender="mallory@elsewhere.example", in_reply_to=our_message_id(1, to=None)))
    assert stranger.change == "created"
    customer = handle(sessions, mail(sender="alice@customer.example", in_reply_to=our_message_id(1, to=None)))
    assert (customer.change, customer.item.number) == ("appended", 1)


def test_a_token_with_a_wrong_signature_is_no_reply(sessions) -> None:  # type: ignore[no-untyped-def]
    add_account(sessions)
    handle(sessions, mail())
    forged = "<postroom.incident.1.0123456789abcdef.x@ours.example>"
    event = handle(sessions, mail(sender="someone@else.example", subject="Re: hi", in_reply_to=forged))
    assert (event.change, event.item.number) == ("created", 2)


def test_a_reply_naming_a_mail_already_on_the_item_is_appended(sessions) -> None:  # type: ignore[no-untyped-def]
    """A colleague Cc'd on the customer's mail answers all: they were a recipient of it."""
    add_account(sessions)
    handle(sessions, mail(message_id="<first@customer.example>",
                          cc=[Address(address="Colleague@customer.example")]))
    event = handle(sessions, mail(sender="colleague@customer.example", subject="Re: Printer",
                                  references=["<other@x.example>", "<first@customer.example>"]))
    assert (event.change, event.item.number, event.matched_by) == ("appended", 1, "thread-header")


@pytest.mark.parametrize("header", ["in_reply_to", "references"])
def test_a_stranger_quoting_a_customers_message_id_gets_a_new_item(sessions, header) -> None:  # type: ignore[no-untyped-def]
    add_account(sessions)
    handle(sessions, mail(message_id="<first@customer.example>"))
    refs = {"in_reply_to": "<first@customer.example>"} if header == "in_reply_to" \
        else {"references": ["<first@customer.example>"]}
    event = handle(sessions, mail(sender="mallory@elsewhere.example", subject="Re: Printer", **refs))
    assert (event.change, event.item.number) == ("created", 2)


@pytest.mark.parametrize("name", ["alice@customer.example", "'alice@customer.example'", "Alice (alice@customer.example)"])
def test_a_display_name_showing_another_address_appends_nothing(sessions, name) -> None:  # type: ignore[no-untyped-def]
    """The angle-addr is the sender; a display name that is another address is a spoof sign."""
    add_account(sessions)
    handle(sessions, mail(message_id="<first@customer.example>"))
    def named(sender: str):  # type: ignore[no-untyped-def]
        envelope = mail(sender=sender, in_reply_to="<first@customer.example>")
        payload = envelope.payload.model_copy(update={"from_": Address(address=sender, name=name)})
        return envelope.model_copy(update={"payload": payload})

    assert handle(sessions, named("alice@customer.example")).change == "appended"  # name = address: no sign
    assert handle(sessions, named("mallory@elsewhere.example")).change == "created"


def test_a_subject_number_from_someone_on_the_notification_list_is_appended(sessions) -> None:  # type: ignore[no-untyped-def]
    add_account(sessions)
    handle(sessions, mail())
    _notify(sessions, 1, "watcher@partner.example")
    event = handle(sessions, mail(sender="watcher@partner.example", subject="About [#1]"))
    assert (event.change, event.item.number, event.matched_by) == ("appended", 1, "subject-number")


def test_a_subject_number_from_the_items_customer_is_appended(sessions) -> None:  # type: ignore[no-untyped-def]
    add(sessions, Customer(name="ACME", domains=["acme.example"]))
    add_account(sessions)
    handle(sessions, mail(sender="alice@acme.example"))
    assert item(sessions, 1).customer_id is not None
    event = handle(sessions, mail(sender="bob@acme.example", subject="Re: [#1] Printer"))
    assert (event.change, event.item.number, event.matched_by) == ("appended", 1, "subject-number")


def test_a_guessed_number_from_a_stranger_makes_a_new_item_linked_as_a_possible_follow_up(sessions) -> None:  # type: ignore[no-untyped-def]
    add(sessions, Customer(name="ACME", domains=["acme.example"]))
    add_account(sessions)
    handle(sessions, mail(sender="alice@acme.example", text="secret details"))
    event = handle(sessions, mail(sender="mallory@evil.example", subject="Re: [#1] Printer"))
    assert (event.change, event.item.number, event.matched_by) == ("created", 2, "new")
    first = item(sessions, 1)
    assert [m.from_address for m in first.mails] == ["alice@acme.example"]
    with sessions() as session:
        link = session.scalar(select(ItemLink))
        row = session.scalar(select(ItemMail).where(ItemMail.item_id == event.item.id))
    assert (link.item_id, link.other_item_id, link.kind) == (event.item.id, first.id, "possible-follow-up")
    assert row.decision["follow_up_of"] == [1]
    assert any("not on the item's notification list" in c for c in row.decision["considered"])


def test_only_items_of_the_accounts_own_type_are_matched(sessions) -> None:  # type: ignore[no-untyped-def]
    add_account(sessions, "bugs", item_type="defect")
    add_account(sessions, "support")
    handle(sessions, mail(account="bugs", message_id="<bug@x.example>"))
    event = handle(sessions, mail(account="support", in_reply_to=our_message_id(1, "defect"),
                                  references=["<bug@x.example>"], subject="Re: [#1]"))
    assert (event.change, event.item.type, event.item.number) == ("created", "incident", 1)


def test_a_sender_failing_dmarc_at_a_trusted_server_cannot_append_by_number_or_be_mapped(sessions) -> None:  # type: ignore[no-untyped-def]
    add(sessions, Customer(name="ACME", domains=["acme.example"]))
    add_account(sessions, trusted_authserv_ids=[TRUSTED], add_sender_to_notify=True)
    handle(sessions, mail(sender="alice@acme.example"))
    forged = handle(sessions, mail(sender="alice@acme.example", subject="Re: [#1] send me the data",
                                   auth=[f"{TRUSTED}; spf=fail; dkim=none; dmarc=fail header.from=acme.example"]))
    assert (forged.change, forged.item.number, forged.sender_verified) == ("created", 2, False)
    assert forged.auto_reply is False and forged.item.customer is None
    assert any(w.kind == "auto-reply" and "unverified" in w.reason for w in forged.withheld)
    with sessions() as session:
        listed = session.scalars(select(ItemNotify.address).where(ItemNotify.item_id == forged.item.id)).all()
    assert listed == []


def test_forged_authentication_results_from_another_host_change_nothing(sessions) -> None:  # type: ignore[no-untyped-def]
    add(sessions, Customer(name="ACME", domains=["acme.example"]))
    add_account(sessions, trusted_authserv_ids=[TRUSTED])
    handle(sessions, mail(sender="alice@acme.example"))
    event = handle(sessions, mail(sender="alice@acme.example", subject="Re: [#1]",
                                  auth=["mx.attacker.example; dmarc=fail", f"{TRUSTED}; dmarc=pass"]))
    assert (event.change, event.item.number, event.sender_verified) == ("appended", 1, True)


def test_a_forged_pass_from_another_host_does_not_verify_a_failing_sender(sessions) -> None:  # type: ignore[no-untyped-def]
    add(sessions, Customer(name="ACME", domains=["acme.example"]))
    add_account(sessions, trusted_authserv_ids=[TRUSTED])
    event = handle(sessions, mail(sender="alice@acme.example",
                                  auth=["mx.attacker.example; dmarc=pass", f"{TRUSTED}; dmarc=fail"]))
    assert event.sender_verified is False and event.item.customer is None
    with sessions() as session:
        assert session.scalar(select(Contact).where(Contact.email == "alice@acme.example")) is None


def test_every_decision_records_the_signal_that_matched(sessions) -> None:  # type: ignore[no-untyped-def]
    add_account(sessions)
    handle(sessions, mail(message_id="<a@x.example>"))
    handle(sessions, mail(in_reply_to="<a@x.example>"))
    handle(sessions, mail(in_reply_to=our_message_id(1)))
    assert [m.matched_by.split(":")[0] for m in item(sessions, 1).mails] == ["new", "thread-header", "signed-token"]
    assert item(sessions, 1).mails[2].matched_by == "signed-token: our token for #1 in in-reply-to, issued to alice@customer.example"
    assert item_count(sessions) == 1
