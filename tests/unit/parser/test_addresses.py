"""Address lists read the same the second time: values seen before are not parsed again, and what
the first parse found wrong is reported again."""

from __future__ import annotations

from tests.unit.parser.conftest import parse

MAIL = ("From: Ann <ann@example.com>\r\nTo: {to}\r\nSubject: s\r\n\r\nbody\r\n")


def test_a_malformed_list_seen_again_gives_the_same_addresses_and_defects() -> None:
    """The second mail with the same odd To: header has the same addresses and the same defects."""
    to = 'Support <support@example.com>, "unclosed <broken@, bob@example.org'
    first, second = parse(MAIL.format(to=to)), parse(MAIL.format(to=to))
    assert first.to == second.to
    assert first.defects == second.defects
    assert any(d.startswith("To:") for d in first.defects)


def test_a_long_list_is_read_whole() -> None:
    """A list too long to be kept is still parsed, address by address."""
    to = ", ".join(f"User {n} <user{n}@example.com>" for n in range(300))
    got = parse(MAIL.format(to=to)).to
    assert [a.address for a in got] == [f"user{n}@example.com" for n in range(300)]
    assert got == parse(MAIL.format(to=to)).to
