"""What a dead letter says about itself and what a replay sends back, without a broker."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest

from shared.broker.deadletters import (DeadLetter, NoSuchLetter, collapse, find, letter_id, replay_body,
                                       replay_headers)
from shared.broker.port import H_ATTEMPTS, H_PREVIOUS_REASON, H_REASON, H_REPLAYED_FROM, H_REPLAYS, H_STAGE
from tests.support.pipeline import fetched


def letter(body: bytes, **headers: object) -> DeadLetter:
    return DeadLetter(id=letter_id(body), consumer="parser", dlq="parser.mail.fetched.dlq", body=body,
                      headers=headers)


def test_a_dead_letter_is_known_by_its_envelope_message_id_or_else_by_a_hash_of_its_body() -> None:
    envelope = fetched("x")
    assert letter_id(envelope.to_json()) == envelope.message_id
    assert letter_id(b"\xff not json") == letter_id(b"\xff not json")
    assert letter_id(b"\xff not json").startswith("body-") and letter_id(b"\xff not json") != letter_id(b"other")


def test_a_replayed_body_starts_again_at_attempt_zero_and_keeps_everything_else() -> None:
    envelope = fetched("x").next_attempt().next_attempt()
    replayed = json.loads(replay_body(envelope.to_json()))
    assert replayed["attempt"] == 0
    assert {k: v for k, v in replayed.items() if k != "attempt"} == \
        {k: v for k, v in json.loads(envelope.to_json()).items() if k != "attempt"}
    assert replay_body(b"\xff not json") == b"\xff not json"


def test_replay_headers_drop_the_death_and_record_the_replay() -> None:
    dead = letter(b"{}", **{H_STAGE: "parser", H_REASON: "rejected: too big", H_ATTEMPTS: 3, "x-death": [{}],
                            "x-delivery-count": 4, "x-custom": "kept"})
    headers = replay_headers(dead, now=datetime(2026, 11, 26, tzinfo=UTC))
    assert headers == {"x-custom": "kept", H_REPLAYS: 1, "x-postroom-replayed-at": "2026-11-26T00:00:00+00:00",
                       H_REPLAYED_FROM: "parser.mail.fetched.dlq", H_PREVIOUS_REASON: "rejected: too big"}
    again = letter(b"{}", **{H_REPLAYS: 1, H_REASON: "again"})
    assert replay_headers(again)[H_REPLAYS] == 2


def test_a_letter_dead_lettered_by_the_broker_itself_says_so() -> None:
    assert "delivery limit" in letter(b"{}", **{"x-first-death-reason": "delivery_limit"}).reason


def test_a_unique_prefix_finds_a_letter_and_an_ambiguous_or_unknown_one_is_refused() -> None:
    a, b = (DeadLetter(id=i, consumer="parser", dlq="q", body=b"", headers={}) for i in ("abcd-1", "abcd-2"))
    assert find([a, b], "abcd-1") is a
    assert find([a, b], "abcd-2") is b
    with pytest.raises(NoSuchLetter, match="ambiguous"):
        find([a, b], "abcd")
    with pytest.raises(NoSuchLetter, match="no dead letter"):
        find([a, b], "zzzz")


def test_copies_of_one_letter_in_one_queue_collapse_into_the_first_with_the_others_tags() -> None:
    body = fetched("x").to_json()
    a, b, c = (DeadLetter(id=letter_id(body), consumer="parser", dlq="q", body=body, headers={}, tag=t)
               for t in (1, 2, 3))
    other = DeadLetter(id="other", consumer="parser", dlq="q", body=b"", headers={}, tag=4)
    elsewhere = DeadLetter(id=a.id, consumer="itemwriter", dlq="q2", body=body, headers={}, tag=5)
    kept = collapse([a, other, b, elsewhere, c])
    assert [(x.id, x.dlq, x.tag, x.copies) for x in kept] == \
        [(a.id, "q", 1, (2, 3)), ("other", "q", 4, ()), (a.id, "q2", 5, ())]
    assert kept[0].summary()["copies"] == 3 and kept[1].summary()["copies"] == 1
