"""From the mail to the item's fields: the recommended mapping, an edited one, default values."""

from __future__ import annotations

from datetime import UTC, datetime

from services.itemwriter.forwards import original_sender
from shared.items.mapping import apply_defaults, map_mail
from tests.support.items import mail

FIELDS = frozenset({"priority", "reported_to"})


def test_the_recommended_mapping_takes_subject_body_sender_and_date() -> None:
    mapped = map_mail(mail(subject="Jammed", text="Floor 2").payload, {}, FIELDS)
    assert (mapped.title, mapped.description) == ("Jammed", "Floor 2")
    assert mapped.contact is not None and mapped.contact.address == "alice@customer.example"
    assert mapped.date == datetime(2026, 11, 26, 9, 30, tzinfo=UTC)


def test_an_edited_mapping_fills_other_fields_and_leaves_none_empty() -> None:
    envelope = mail(subject="Jammed", text="Floor 2", to=[{"address": "desk@ours.example"}])
    mapped = map_mail(envelope.payload, {"description": "subject", "reported_to": "to", "date": "none"}, FIELDS)
    assert mapped.description == "Jammed"
    assert mapped.fields == {"reported_to": "desk@ours.example"}
    assert mapped.date is None


def test_a_mapping_to_an_unknown_field_is_ignored_with_a_note() -> None:
    mapped = map_mail(mail().payload, {"colour": "subject"}, FIELDS)
    assert "colour" not in mapped.fields and any("colour" in n for n in mapped.notes)


def test_default_values_change_custom_fields_over_the_mapping() -> None:
    mapped = map_mail(mail(subject="x").payload, {"priority": "subject"}, FIELDS)
    apply_defaults(mapped, {"priority": "high", "status": "open", "size": "XL"}, FIELDS)
    assert mapped.fields["priority"] == "high"
    assert mapped.builtin_defaults == {"status": "open"}
    assert any("size" in n for n in mapped.notes)


def test_the_original_author_of_a_forward_is_read_from_its_quoted_header() -> None:
    body = "FYI\n\n---------- Forwarded message ---------\nFrom: Bob Builder <bob@acme.example>\nDate: today\n"
    found = original_sender("Fwd: broken", body)
    assert found is not None and (found.name, found.address) == ("Bob Builder", "bob@acme.example")


def test_a_mail_that_is_no_forward_names_no_original_author() -> None:
    assert original_sender("Question", "From: the team\nhello") is None
