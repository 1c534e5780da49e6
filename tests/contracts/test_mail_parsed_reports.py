"""MailParsed v1 grew ``delivery_reports`` with a default: a payload without it still decodes, one
with it round-trips, and a consumer that predates it reads the rest unchanged."""

from __future__ import annotations

import json
from pathlib import Path

from shared.contracts import DeliveryReport, MailParsed, decode

GOLDEN = Path(__file__).parent / "golden" / "mail.parsed.v1.json"


def test_a_parsed_mail_from_before_delivery_reports_decodes_with_none() -> None:
    raw = json.loads(GOLDEN.read_text())
    del raw["payload"]["delivery_reports"]
    payload = decode(json.dumps(raw).encode()).payload
    assert isinstance(payload, MailParsed) and payload.delivery_reports == []


def test_a_parsed_bounce_with_its_delivery_reports_round_trips() -> None:
    raw = json.loads(GOLDEN.read_text())
    raw["payload"]["classification"] = {"kind": "bounce", "reason": "multipart/report"}
    raw["payload"]["delivery_reports"] = [
        {"final_recipient": "ann@example.com", "action": "failed", "status": "5.1.1",
         "original_recipient": "ann@example.com", "diagnostic": "smtp; 550 5.1.1 no such user"},
        {"final_recipient": "bob@example.com", "action": "delayed", "status": "4.4.1", "original_recipient": None,
         "diagnostic": ""}]
    envelope = decode(json.dumps(raw).encode())
    assert envelope.payload.delivery_reports[1] == DeliveryReport(final_recipient="bob@example.com",
                                                                  action="delayed", status="4.4.1")
    assert json.loads(envelope.to_json()) == raw
