"""Header fields written as text decode, with the standard library, to the flattened value, and keep
every line within 78 characters."""

from __future__ import annotations

import email
import random
from email import policy
from email.header import decode_header, make_header

import pytest

from services.notifier.headers import address_header, header, one_line
from shared.contracts import Address

SAMPLES = ["", "Printer jammed", "[#7] " + "a rather long subject line " * 8, "Grüße aus Köln " * 6,
           "中文主题测试一下这个很长的主题行" * 3, "emoji 😀 and ☃ " * 5, "control \x01 and \x7f chars",
           "question _=? marks", "Ærø" + "x" * 200]


def _raw(field: str, name: str) -> str:
    """The field's value unfolded, its encoded words left as they are."""
    return str(email.message_from_bytes((field + "\r\nbody\r\n").encode("ascii"))[name]).replace("\r\n", "")


def _check_lines(field: str) -> None:
    assert field.isascii() and field.endswith("\r\n")
    assert all(len(line) <= 78 for line in field[:-2].split("\r\n"))


@pytest.mark.parametrize("value", SAMPLES)
def test_a_subject_decodes_to_its_flattened_value_with_both_header_parsers(value: str) -> None:
    field = header("Subject", value)
    _check_lines(field)
    parsed = email.message_from_bytes((field + "\r\nbody\r\n").encode("ascii"), policy=policy.default)
    assert parsed["Subject"] == one_line(value)
    assert str(make_header(decode_header(_raw(field, "Subject")))) == one_line(value)


def test_random_subjects_decode_to_their_flattened_value() -> None:
    """Any mix of ASCII specials, Latin, CJK, astral characters and controls."""
    rng = random.Random(7)
    alphabet = "abcXYZ 019 _=?!*+-/\"'(),.:;<>@[]\\ äöüßÆø—€☃中文字😀\x01\x7f\t"
    for _ in range(500):
        value = "".join(rng.choice(alphabet) for _ in range(rng.randint(0, 200)))
        field = header("Subject", value)
        _check_lines(field)
        assert str(make_header(decode_header(_raw(field, "Subject")))) == one_line(value)


def test_a_word_longer_than_a_line_stays_whole_within_the_hard_limit() -> None:
    """RFC 5322 §2.1.1: 78 is a SHOULD, 998 a MUST; folding may only happen at white space."""
    assert header("Subject", "see " + "x" * 120) == "Subject: see\r\n " + "x" * 120 + "\r\n"


@pytest.mark.parametrize("name", ["Jürgen Müller", 'Müller, "Jürgen" <fake@evil.example>', "山田太郎",
                                  "Ærøskøbing Kundeservice — Ünïcödé Dëpärtmënt für sehr lange Anzeigenamen"])
def test_a_display_name_that_is_not_ascii_is_encoded_and_the_address_stays_as_it_is(name: str) -> None:
    field = address_header("To", Address(name=name, address="ada@example.com"))
    _check_lines(field)
    raw = _raw(field, "To")
    phrase, _, addr = raw.rpartition(" ")
    assert addr == "<ada@example.com>"
    assert str(make_header(decode_header(phrase))) == name


def test_an_ascii_address_is_written_as_the_standard_library_formats_it() -> None:
    to = Address(name='Doe, "John"', address="ada@example.com")
    assert address_header("To", to) == f"To: {to.formatted()}\r\n"
    assert address_header("To", Address(address="ada@example.com")) == "To: ada@example.com\r\n"
