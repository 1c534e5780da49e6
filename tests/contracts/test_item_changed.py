"""ItemChanged v1 and MailParsed v1 only grew fields with defaults: old payloads still decode."""

from __future__ import annotations

import json
from pathlib import Path

from shared.contracts import ItemChanged, MailParsed, decode

GOLDEN = Path(__file__).parent / "golden"


def test_the_golden_item_changed_event_carries_the_added_fields() -> None:
    envelope = decode((GOLDEN / "item.changed.v1.json").read_bytes())
    assert isinstance(envelope.payload, ItemChanged)
    assert envelope.payload.status_change is not None and envelope.payload.status_change.reopened
    assert [a.address for a in envelope.payload.notify] == ["lead@example.test"]


def test_an_item_changed_event_of_the_first_shape_still_decodes_with_defaults() -> None:
    raw = json.loads((GOLDEN / "item.changed.v1.json").read_text())
    for added in ("matched_by", "sender_verified", "status_change", "notify", "withheld", "delivery_failure",
                  "failing_addresses"):
        del raw["payload"][added]
    for added in ("step", "customer"):
        del raw["payload"]["item"][added]
    for added in ("text", "reply_text"):
        del raw["payload"]["mail"][added]
    payload = decode(json.dumps(raw).encode()).payload
    assert (payload.sender_verified, payload.notify, payload.status_change, payload.item.step) == (True, [], None, None)
    assert (payload.mail.text, payload.mail.reply_text) == ("", None)


def test_a_parsed_mail_without_authentication_results_or_bounce_of_still_decodes() -> None:
    payload = MailParsed.model_validate({"account": "a", "source_id": "s", "message_id": None, "date": None,
                                         "subject": "", "from": None,
                                         "raw": {"key": "k", "size": 1, "sha256": "0" * 64}})
    assert (payload.authentication_results, payload.bounce_of) == ([], None)
