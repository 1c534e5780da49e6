"""A slightly invalid address keeps its best reading (with a defect) instead of being dropped, and
the old display-name form ``user@example.com (Full Name)`` keeps its name."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from services.parser.headers import parse_addresses
from tests.unit.parser.conftest import parse
from tests.unit.parser.test_address_properties import ADDRESS, DOMAIN, LOCAL


def _read(value: str, header: str = "From") -> tuple[list[tuple[str, str]], list[str]]:
    defects: list[str] = []
    return [(a.name, a.address) for a in parse_addresses(value, header, defects)], defects


@pytest.mark.parametrize(("value", "want"), [
    ("ann@example.com.", ("", "ann@example.com")),
    ("Ann <ann@example.com.>", ("Ann", "ann@example.com")),
    ("Ann Example <ann@example..com>", ("Ann Example", "ann@example.com")),
    ("ann@@example.com", ("", "ann@example.com")),
    ('"Ann" <ann@.example.com>', ("Ann", "ann@example.com")),
    ("<ann@example.com.>;", ("", "ann@example.com")),
    ("Ann <ann @example.com.>", ("Ann", "ann@example.com")),
])
def test_a_slightly_invalid_sender_keeps_its_best_reading_with_a_defect(value: str, want: tuple[str, str]) -> None:
    got, defects = _read(value)
    assert got == [want]
    assert any("read as 'ann@example.com'" in d for d in defects)


def test_dots_in_the_local_part_are_the_receiving_domain_s_business() -> None:
    assert _read("Ann <ann.@docomo.example.>")[0] == [("Ann", "ann.@docomo.example")]


@pytest.mark.parametrize(("value", "name"), [
    ("MAILER-DAEMON (Mail Delivery System)", "Mail Delivery System"),
    ("Mailer-Daemon (Mail Delivery Subsystem)", "Mail Delivery Subsystem"),
    ("postmaster (Mail Delivery System)", "Mail Delivery System"),
    ("MAILER-DAEMON", ""),
])
def test_a_bare_reporting_mailbox_is_the_sender(value: str, name: str) -> None:
    got, defects = _read(value)
    assert got == [(name, value.split(" ")[0])]
    assert defects


@pytest.mark.parametrize("header", ["To", "Cc", "Reply-To"])
def test_a_bare_word_is_no_recipient_and_no_reply_address(header: str) -> None:
    got, defects = _read("MAILER-DAEMON (Mail Delivery System), root", header)
    assert got == [] and any("dropped" in d for d in defects)


def test_a_bare_word_other_than_a_reporting_mailbox_is_no_sender() -> None:
    got, defects = _read("root (Cron Daemon)")
    assert got == [] and any("'root' dropped" in d for d in defects)


def test_a_bounce_from_a_bare_mailer_daemon_has_a_sender() -> None:
    raw = ("From: MAILER-DAEMON (Mail Delivery System)\r\nTo: ann@example.com\r\nSubject: Undelivered Mail\r\n"
           "\r\nThis is the mail system.\r\n")
    got = parse(raw)
    assert got.from_ is not None and got.from_.address == "MAILER-DAEMON"
    assert got.from_.name == "Mail Delivery System"


def test_a_bounce_from_a_bare_mailer_daemon_is_a_bounce() -> None:
    raw = ("From: MAILER-DAEMON (Mail Delivery System)\r\nTo: ann@example.com\r\nSubject: Undelivered Mail\r\n"
           "MIME-Version: 1.0\r\nContent-Type: multipart/report; report-type=delivery-status; boundary=r\r\n\r\n"
           "--r\r\nContent-Type: text/plain\r\n\r\nThe mail system.\r\n--r\r\nContent-Type: message/delivery-status"
           "\r\n\r\nReporting-MTA: dns; mx.example\r\n\r\nFinal-Recipient: rfc822; bob@example.org\r\n"
           "Action: failed\r\nStatus: 5.1.1\r\n\r\n--r--\r\n")
    got = parse(raw)
    assert got.classification.kind == "bounce"
    assert [(r.final_recipient, r.status) for r in got.delivery_reports] == [("bob@example.org", "5.1.1")]


def test_groups_without_commas_between_them_keep_every_address() -> None:
    got, defects = _read("List 1: a1@test.example, a2@test.example; List 2: a3@test.example; a4@test.example", "To")
    assert [a for _, a in got] == [f"a{n}@test.example" for n in range(1, 5)]
    assert any("read leniently" in d for d in defects)


@pytest.mark.parametrize(("value", "want"), [
    ("ann@example.com (Ann Example)", [("Ann Example", "ann@example.com")]),
    ("ann@example.com (Ann   Example)", [("Ann Example", "ann@example.com")]),
    ("ann@example.com (=?utf-8?q?Ren=C3=A9e_Example?=)", [("Renée Example", "ann@example.com")]),
    ("ann@example.com (Ann), bob@example.com (Bob (the boss))",
     [("Ann", "ann@example.com"), ("Bob (the boss)", "bob@example.com")]),
    ("ann@example.com (Ann), Bob <bob@example.com>", [("Ann", "ann@example.com"), ("Bob", "bob@example.com")]),
    # A display name wins over a comment: the comment is not part of the name.
    ("Ann Example <ann@example.com> (Work)", [("Ann Example", "ann@example.com")]),
])
def test_the_old_display_name_form_in_parentheses_keeps_the_name(value: str, want: list[tuple[str, str]]) -> None:
    got, defects = _read(value)
    assert got == want and defects == []


@settings(max_examples=200, deadline=None)
@given(LOCAL, DOMAIN, st.sampled_from([".", "..", " .", ".>"]), st.booleans())
def test_a_trailing_dot_never_loses_the_sender(local: str, domain: str, tail: str, angle: bool) -> None:
    written = f"{local}@{domain}{tail.rstrip('>')}"
    value = f"Ann <{written}>" if angle else written
    got, defects = _read(value)
    assert [a for _, a in got] == [f"{local}@{domain}"]
    assert defects


NAME = st.text(alphabet="ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz éü-", min_size=1, max_size=30).filter(
    lambda s: s.strip() != "")


@settings(max_examples=200, deadline=None)
@given(ADDRESS, NAME)
def test_a_comment_after_a_bare_address_is_its_name(address: str, name: str) -> None:
    got, _ = _read(f"{address} ({name})")
    assert got == [(" ".join(name.split()), address)]
