"""Every per-account setting changes the outcome it names."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from shared.contracts import Attachment, BlobRef
from shared.db.models import Customer, CustomField, ItemNotify, Project, User
from tests.support.items import add, add_account, handle, item, mail, our_message_id

ATTACHMENT = Attachment(blob=BlobRef(key="sha256:" + "b" * 64, size=3, sha256="b" * 64), filename="log.txt",
                        content_type="text/plain", size=3, sha256="b" * 64)


def _listed(sessions, item_id: int) -> list[str]:  # type: ignore[no-untyped-def]
    with sessions() as session:
        return list(session.scalars(select(ItemNotify.address).where(ItemNotify.item_id == item_id)
                                    .order_by(ItemNotify.id)))


def test_the_accounts_item_type_project_and_creator_are_given_to_new_items(sessions) -> None:  # type: ignore[no-untyped-def]
    add(sessions, User(email="bot@ours.example", name="Mail bot"))
    add_account(sessions, "bugs", item_type="defect", project="Firmware", creator="Bot@ours.example")
    event = handle(sessions, mail(account="bugs"))
    created = item(sessions, 1, "defect")
    assert (event.item.type, created.project) == ("defect", "Firmware")
    with sessions() as session:
        assert session.get(User, created.creator_id).email == "bot@ours.example"


def test_an_edited_field_mapping_changes_what_the_item_gets(sessions) -> None:  # type: ignore[no-untyped-def]
    add_account(sessions, field_mapping={"description": "subject", "date": "none"})
    handle(sessions, mail(subject="Jammed", text="the body"))
    created = item(sessions, 1)
    assert (created.title, created.description, created.item_date) == ("Jammed", "Jammed", None)


def test_the_recommended_mapping_gives_the_item_the_mails_date(sessions) -> None:  # type: ignore[no-untyped-def]
    add_account(sessions)
    envelope = mail(subject="Jammed", text="the body")
    handle(sessions, envelope)
    created = item(sessions, 1)
    assert created.description == "the body"
    assert created.item_date is not None and created.item_date.date() == envelope.payload.date.date()


@pytest.mark.parametrize("save", [True, False])
def test_attachments_are_kept_only_when_the_account_saves_them(sessions, save: bool) -> None:  # type: ignore[no-untyped-def]
    add_account(sessions, save_attachments=save)
    handle(sessions, mail(attachments=[ATTACHMENT]))
    assert [a.filename for a in item(sessions, 1).attachments] == (["log.txt"] if save else [])


@pytest.mark.parametrize("add_sender", [True, False])
def test_the_sender_joins_the_notification_list_only_when_the_account_adds_senders(sessions, add_sender: bool) -> None:  # type: ignore[no-untyped-def]
    add_account(sessions, add_sender_to_notify=add_sender)
    event = handle(sessions, mail(sender="Alice@Customer.example"))
    assert _listed(sessions, event.item.id) == (["alice@customer.example"] if add_sender else [])


@pytest.mark.parametrize("map_senders", [True, False])
def test_senders_are_mapped_to_their_customer_only_when_the_account_maps_them(sessions, map_senders: bool) -> None:  # type: ignore[no-untyped-def]
    add(sessions, Customer(name="ACME", domains=["acme.example"]))
    add_account(sessions, map_senders=map_senders)
    event = handle(sessions, mail(sender="alice@acme.example"))
    assert event.item.customer == ("ACME" if map_senders else None)
    assert (item(sessions, 1).contact_id is not None) is map_senders


@pytest.mark.parametrize("quiet", [True, False])
def test_quiet_on_create_spares_the_sender_a_separate_notice_while_the_projects_list_still_hears(sessions, quiet: bool) -> None:  # type: ignore[no-untyped-def]
    add(sessions, Project(name="Support", notify=["lead@ours.example"]))
    add_account(sessions, quiet_on_create=quiet, add_sender_to_notify=True)
    event = handle(sessions, mail(sender="alice@customer.example"))
    assert [a.address for a in event.notify] == (["lead@ours.example"] if quiet
                                                 else ["lead@ours.example", "alice@customer.example"])
    assert event.auto_reply is True
    withheld = [(w.address, w.reason) for w in event.withheld if w.kind == "notification"]
    assert withheld == ([("alice@customer.example", "new item: the account sends its sender no separate "
                                                    "notification (quiet_on_create)")] if quiet else [])
    later = handle(sessions, mail(sender="alice@customer.example", subject="[#1] more"))
    assert [a.address for a in later.notify] == ["lead@ours.example"]  # her own mail: never told of it


def test_the_account_can_turn_off_the_auto_reply(sessions) -> None:  # type: ignore[no-untyped-def]
    add_account(sessions, auto_reply=False)
    event = handle(sessions, mail())
    assert event.auto_reply is False
    assert [w.reason for w in event.withheld if w.kind == "auto-reply"] == ["the account sends no auto-reply"]


def test_default_values_change_the_fields_of_new_items_only(sessions) -> None:  # type: ignore[no-untyped-def]
    add(sessions, CustomField(name="priority", label="Priority", kind="choice", choices=["low", "high"]),
        Customer(name="ACME", domains=[]))
    add_account(sessions, default_values={"priority": "high", "status": "open", "customer": "ACME"})
    event = handle(sessions, mail(message_id="<a@x.example>"))
    created = item(sessions, 1)
    assert (created.fields, created.status, event.item.customer) == ({"priority": "high"}, "open", "ACME")
    handle(sessions, mail(in_reply_to="<a@x.example>"))
    assert item(sessions, 1).status == "open"


@pytest.mark.parametrize("reply_status", [None, "waiting"])
def test_a_reply_sets_the_status_the_account_names(sessions, reply_status: str | None) -> None:  # type: ignore[no-untyped-def]
    add_account(sessions, reply_status=reply_status)
    handle(sessions, mail())
    event = handle(sessions, mail(in_reply_to=our_message_id(1)))
    assert event.item.status == (reply_status or "new")
    assert (event.status_change is not None) is (reply_status is not None)


@pytest.mark.parametrize("moves", [True, False])
def test_a_reply_moves_the_workflow_step_as_the_step_says_when_the_account_moves_steps(sessions, moves: bool) -> None:  # type: ignore[no-untyped-def]
    add_account(sessions, reply_moves_step=moves, default_values={"step": "waiting-for-customer"})
    handle(sessions, mail())
    assert (item(sessions, 1).status, item(sessions, 1).step) == ("waiting", "waiting-for-customer")
    event = handle(sessions, mail(in_reply_to=our_message_id(1)))
    expected = ("open", "in-progress") if moves else ("waiting", "waiting-for-customer")
    assert (event.item.status, event.item.step) == expected


@pytest.mark.parametrize("reopen", [True, False])
def test_a_reply_to_a_closed_item_reopens_it_only_when_the_account_reopens(sessions, reopen: bool) -> None:  # type: ignore[no-untyped-def]
    add_account(sessions, reopen_closed=reopen, default_values={"step": "done"})
    handle(sessions, mail())
    assert item(sessions, 1).status == "closed"
    event = handle(sessions, mail(in_reply_to=our_message_id(1)))
    assert event.change == "appended"
    assert event.item.status == ("open" if reopen else "closed")
    assert (event.status_change is not None and event.status_change.reopened) is reopen


@pytest.mark.parametrize("attribute", [True, False])
def test_an_agents_forward_is_attributed_to_the_original_sender_when_the_account_says_so(sessions, attribute: bool) -> None:  # type: ignore[no-untyped-def]
    add(sessions, User(email="agent@ours.example", name="Agent"), Customer(name="ACME", domains=["acme.example"]))
    add_account(sessions, attribute_forwards=attribute, add_sender_to_notify=True)
    body = "see below\n\n-----Original Message-----\nFrom: Bob <bob@acme.example>\nSubject: broken\n\nIt broke."
    event = handle(sessions, mail(sender="agent@ours.example", subject="FW: broken", text=body))
    assert event.item.customer == ("ACME" if attribute else None)
    assert _listed(sessions, event.item.id) == (["bob@acme.example"] if attribute else ["agent@ours.example"])


def test_an_appended_mail_notifies_the_list_except_its_sender(sessions) -> None:  # type: ignore[no-untyped-def]
    add_account(sessions, add_sender_to_notify=True)
    handle(sessions, mail(sender="alice@customer.example"))
    add(sessions, ItemNotify(item_id=item(sessions, 1).id, address="lead@ours.example"))
    event = handle(sessions, mail(sender="alice@customer.example", in_reply_to=our_message_id(1)))
    assert [a.address for a in event.notify] == ["lead@ours.example"]
    assert [(w.address, w.reason) for w in event.withheld if w.kind == "notification"] == [
        ("alice@customer.example", "wrote this mail")]
    assert event.auto_reply is False
