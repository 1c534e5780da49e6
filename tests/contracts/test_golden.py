"""Every published message version has a golden JSON document that decodes and re-encodes unchanged.

A published contract is never edited: a breaking change is a new version with its own golden file,
and the old one keeps passing here for as long as it is published.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from shared.contracts import UndecodableMessage, decode, registered_keys

GOLDEN = Path(__file__).parent / "golden"


@pytest.mark.parametrize("key", registered_keys())
def test_every_registered_message_version_has_a_golden_document(key: str) -> None:
    assert (GOLDEN / f"{key}.json").is_file(), f"add tests/contracts/golden/{key}.json"


@pytest.mark.parametrize("path", sorted(GOLDEN.glob("*.json")), ids=lambda p: p.stem)
def test_a_golden_document_round_trips_unchanged(path: Path) -> None:
    document = json.loads(path.read_text())
    envelope = decode(path.read_bytes())
    assert envelope.type == path.stem
    assert json.loads(envelope.to_json()) == document


@pytest.mark.parametrize("path", sorted(GOLDEN.glob("*.json")), ids=lambda p: p.stem)
def test_a_consumer_reads_a_document_with_a_field_added_by_a_newer_producer(path: Path) -> None:
    """Tolerant reader: during a rolling upgrade an additive field must not dead-letter the message."""
    document = json.loads(path.read_text())
    document["payload"]["added_later"] = 1
    assert json.loads(decode(json.dumps(document).encode()).to_json()) == json.loads(path.read_text())


@pytest.mark.parametrize("path", sorted(GOLDEN.glob("*.json")), ids=lambda p: p.stem)
def test_a_document_missing_a_required_field_is_undecodable(path: Path) -> None:
    document = json.loads(path.read_text())
    del document["payload"]["account"]
    with pytest.raises(UndecodableMessage, match="account"):
        decode(json.dumps(document).encode())


def test_a_body_with_an_unknown_routing_key_is_undecodable() -> None:
    with pytest.raises(UndecodableMessage, match="no contract"):
        decode(b'{"type": "mail.fetched.v99", "payload": {}}')


@pytest.mark.parametrize("path", sorted(GOLDEN.glob("*.json")), ids=lambda p: p.stem)
def test_a_document_decodes_the_same_with_a_byte_order_mark_or_in_utf_16(path: Path) -> None:
    """The fast JSON parser reads UTF-8 only; what it refuses is read as ``json.loads`` reads it."""
    expected = decode(path.read_bytes())
    assert decode(b"\xef\xbb\xbf" + path.read_bytes()) == expected
    assert decode(path.read_text().encode("utf-16")) == expected


def test_a_body_that_is_not_json_is_undecodable() -> None:
    with pytest.raises(UndecodableMessage, match="not JSON"):
        decode(b'{"type": "mail.fetched.v1", ')
