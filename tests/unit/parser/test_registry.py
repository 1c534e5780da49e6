"""The parser's policy reads headers exactly as ``email.policy.default`` does, making each header
class and each short header object once."""

from __future__ import annotations

import email
from email import policy
from email.headerregistry import DateHeader

import pytest

from services.parser.registry import MAX_CACHED_VALUE, POLICY, Registry

VALUES = [
    ("Content-Type", 'text/plain; charset="utf-8"'),
    ("Content-Type", "multipart/mixed; boundary=\"b\"; x*0*=utf-8''%E2%82%AC; x*1=z"),
    ("Content-Type", "text/ plain; charset=\"unterminated"),
    ("Content-Disposition", "attachment; filename*=utf-8''na%C3%AFve.txt"),
    ("Content-Transfer-Encoding", "BASE64 (a comment)"),
    ("From", '=?utf-8?q?Fran=C3=A7ois?= <f@example.com>, "Smith, J" <j@example.com>'),
    ("To", "undisclosed-recipients:;"),
    ("Date", "Thu, 26 Nov 2026 08:00:00 +0100"),
    ("X-Odd", "=?unknown?b?!!?= text"),
]


@pytest.mark.parametrize(("name", "value"), VALUES)
def test_a_header_reads_as_the_default_policy_reads_it(name: str, value: str) -> None:
    """Value, class, parameters and defects are those of ``policy.default``."""
    ours, theirs = POLICY.header_fetch_parse(name, value), policy.default.header_fetch_parse(name, value)
    assert str(ours) == str(theirs)
    assert type(ours).__mro__[1:] == type(theirs).__mro__[1:]
    assert [type(d) for d in ours.defects] == [type(d) for d in theirs.defects]
    assert dict(getattr(ours, "params", {})) == dict(getattr(theirs, "params", {}))


def test_a_header_class_is_made_once_per_name() -> None:
    """The stdlib makes a class per header read; ours keeps one per header name."""
    registry = Registry()
    assert registry["Content-Type"] is registry["content-type"]


def test_a_short_value_seen_again_is_not_parsed_again_but_a_long_one_is() -> None:
    """The same object comes back for the same short name and value."""
    registry = Registry()
    assert registry("Content-Type", "text/plain") is registry("Content-Type", "text/plain")
    long = "x" * (MAX_CACHED_VALUE + 1)
    assert registry("Subject", long) is not registry("Subject", long)
    assert registry("Subject", long) == long


def test_a_type_mapped_later_is_used() -> None:
    """``map_to_type`` still takes effect after a header of that name was read."""
    registry, date = Registry(), "Thu, 26 Nov 2026 08:00:00 +0100"
    assert not hasattr(registry("X-Mine", date), "datetime")
    registry.map_to_type("X-Mine", DateHeader)
    assert registry("X-Mine", date).datetime is not None


def test_a_mail_parses_the_same_under_both_policies() -> None:
    """Part types, parameters and payloads match ``policy.default``'s."""
    raw = (b"From: a@example.com\r\nContent-Type: multipart/mixed; boundary=zz\r\n\r\n--zz\r\n"
           b"Content-Type: text/plain; charset=koi8-r\r\n\r\n\xf0\xd2\xc9\r\n--zz\r\n"
           b"Content-Type: application/pdf; name=\"a.pdf\"\r\nContent-Transfer-Encoding: base64\r\n\r\nJVBERg==\r\n--zz--\r\n")
    ours, theirs = email.message_from_bytes(raw, policy=POLICY), email.message_from_bytes(raw, policy=policy.default)
    for a, b in zip(ours.walk(), theirs.walk(), strict=True):
        assert (a.get_content_type(), a.get_params(), a.get_filename()) == (b.get_content_type(), b.get_params(),
                                                                              b.get_filename())
        assert a.get_payload(decode=True) == b.get_payload(decode=True)
