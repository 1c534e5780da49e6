"""A damaged top-level header block still gives the sender and the subject: a junk line before the
first field is skipped, a line between two fields continues the field above, and the repair is a
defect of the mail."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from services.parser import header_block
from tests.unit.parser.conftest import parse

JUNK = ["---- Original message ----", "-----Original Message-----", "Forwarded message:", "> quoted text",
        "=== pasted ===", "Begin forwarded message"]


@pytest.mark.parametrize("junk", JUNK)
@pytest.mark.parametrize("eol", ["\n", "\r\n"])
def test_a_junk_line_before_the_first_header_is_skipped(junk: str, eol: str) -> None:
    raw = eol.join([junk, "From: Ann Example <ann@example.com>", "Subject: Printer broken", "", "It jams.", ""])
    got = parse(raw)
    assert got.from_ is not None and got.from_.address == "ann@example.com" and got.from_.name == "Ann Example"
    assert got.subject == "Printer broken"
    assert got.text == "It jams."
    assert "header block: 1 line(s) before the first field skipped" in got.defects


@pytest.mark.parametrize(("head", "want_subject", "want_to"), [
    (["Subject: a long subject that", "was broken without folding", "From: ann@example.com"],
     "a long subject that was broken without folding", []),
    (["From: ann@example.com", "To: bob@example.com,", "cat@example.com", "Subject: hello"],
     "hello", ["bob@example.com", "cat@example.com"]),
    (["From: ann@example.com", "Subject: one", "two", "three", "To: bob@example.com"],
     "one two three", ["bob@example.com"]),
])
def test_a_line_without_a_field_name_between_fields_continues_the_field_above(
        head: list[str], want_subject: str, want_to: list[str]) -> None:
    got = parse("\r\n".join([*head, "", "Body text.", ""]))
    assert got.from_ is not None and got.from_.address == "ann@example.com"
    assert got.subject == want_subject
    assert [a.address for a in got.to] == want_to
    assert got.text == "Body text."
    assert any("read as continuations" in d for d in got.defects)


def test_a_repaired_block_can_still_declare_a_multipart_body() -> None:
    raw = ("---- Original message ----\r\nFrom: ann@example.com\r\nSubject: report\r\nMIME-Version: 1.0\r\n"
           'Content-Type: multipart/mixed; boundary="b"\r\n\r\n--b\r\nContent-Type: text/plain\r\n\r\nSee the log.\r\n'
           "--b\r\nContent-Type: text/plain; name=log.txt\r\nContent-Disposition: attachment\r\n\r\nline\r\n--b--\r\n")
    got = parse(raw)
    assert got.subject == "report" and got.text == "See the log."
    assert [a.filename for a in got.attachments] == ["log.txt"]


def test_lines_after_the_last_field_stay_the_start_of_the_body() -> None:
    """Nothing says a line after the last field belongs to the header: the stdlib's reading stands."""
    raw = "From: ann@example.com\r\nSubject: hello\r\nHi Bob,\r\n\r\nthe printer jams.\r\n"
    got = parse(raw)
    assert got.subject == "hello" and got.text.startswith("Hi Bob,")
    assert header_block.repair(raw.encode(), 1 << 16) is None


def test_a_block_without_an_empty_line_after_it_is_not_repaired() -> None:
    assert header_block.repair(b"junk\r\nFrom: a@example.com\r\nSubject: s\r\nbody", 1 << 16) is None


def test_an_intact_mail_is_never_reparsed() -> None:
    got = parse("From: ann@example.com\r\nSubject: hello\r\n\r\nbody\r\n")
    assert not any(d.startswith("header block") for d in got.defects)


NAME = st.text(alphabet="abcdefghijklmnopqrstuvwxyz", min_size=1, max_size=12)
WORDS = st.lists(NAME, min_size=1, max_size=6).map(" ".join)
# A line that is no field: no colon right after a first word, no leading white space.
BROKEN = st.lists(NAME, min_size=2, max_size=5).map(" ".join)


@settings(max_examples=150, deadline=None)
@given(WORDS, st.lists(BROKEN, max_size=3), st.lists(BROKEN, max_size=2), NAME)
def test_sender_and_subject_survive_any_junk_and_unfolded_lines(subject: str, continued: list[str],
                                                                junk: list[str], local: str) -> None:
    lines = [*junk, f"Subject: {subject}", *continued, f"From: Ann <{local}@example.com>", "To: b@example.com"]
    got = parse("\r\n".join([*lines, "", "body", ""]))
    assert got.from_ is not None and got.from_.address == f"{local}@example.com"
    assert got.subject == " ".join([subject, *continued])
    assert got.text == "body"
    assert [a.address for a in got.to] == ["b@example.com"]
