"""The shape limits count what the stdlib parser builds, however the structure is spelled.

Each mail here is written to make a scan that reads the boundary its own way count one part
while the parser builds dozens. Every test first proves the trick is real (the stdlib parser, with
``policy.default``, builds more parts or levels than the limit), then that the limit applies.
"""

from __future__ import annotations

import dataclasses
import email
import email.policy
from email.message import Message

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from services.parser.limits import Limits, check_shape
from shared.errors import Reject
from tests.support import hostile_mail
from tests.unit.parser.conftest import parse

HEAD = "From: a@example.com\r\nTo: b@example.com\r\nMIME-Version: 1.0\r\nSubject: s\r\n"
LIMITS = Limits(max_parts=50, max_depth=8)
PARTS = 60


def stdlib_shape(raw: bytes) -> tuple[int, int]:
    """How many messages the stdlib parser builds, and the most levels any one is nested in."""
    root = email.message_from_bytes(raw, policy=email.policy.default)
    stack: list[tuple[Message, int]] = [(root, 0)]
    count, deepest = 0, 0
    while stack:
        part, depth = stack.pop()
        count, deepest = count + 1, max(deepest, depth)
        payload = part.get_payload() if part.is_multipart() else None
        if isinstance(payload, list):
            stack.extend((p, depth + 1) for p in payload if isinstance(p, Message))
    return count, deepest


def many_parts(content_type: str, boundary: str = "real", parts: int = PARTS, eol: str = "\r\n") -> bytes:
    body = "".join(f"--{boundary}{eol}Content-Type: text/plain{eol}{eol}part {i}{eol}" for i in range(parts))
    return (HEAD + content_type + "\r\n\r\n").encode() + f"{body}--{boundary}--{eol}".encode()


SPELLINGS = {
    # A parameter whose name ends in "boundary" is not the boundary, wherever it stands.
    "an x-boundary parameter before the real one":
        many_parts('Content-Type: multipart/mixed; x-boundary="decoy"; boundary="real"'),
    "an x-boundary parameter after the real one":
        many_parts('Content-Type: multipart/mixed; boundary=real; x-boundary=decoy'),
    # RFC 2231 section 3: a value split over numbered parameters.
    "RFC 2231 continuations":
        many_parts('Content-Type: multipart/mixed; boundary*0="re"; boundary*1="al"'),
    "RFC 2231 continuations out of order":
        many_parts('Content-Type: multipart/mixed;\r\n boundary*1=al;\r\n boundary*0=re'),
    "an RFC 2231 continuation alone":
        many_parts('Content-Type: multipart/mixed; boundary*0="real"'),
    # RFC 2231 section 4: charset'language'percent-encoded value.
    "an RFC 2231 charset and language":
        many_parts("Content-Type: multipart/mixed; boundary*=us-ascii'en'real"),
    "an RFC 2231 percent-encoded continuation":
        many_parts("Content-Type: multipart/mixed; boundary*0*=utf-8''r%65; boundary*1=al"),
    # Message.get returns the first of two Content-Type fields.
    "a second Content-Type field that says text/plain":
        many_parts('Content-Type: multipart/mixed; boundary="real"\r\nContent-Type: text/plain'),
    "a second Content-Type field with another boundary":
        many_parts('Content-Type: multipart/mixed; boundary="real"\r\nContent-Type: multipart/mixed; boundary="decoy"'),
    # The boundary keeps leading space (RFC 2046 5.1.1), and case.
    "a boundary that starts with a space":
        many_parts('Content-Type: multipart/mixed; boundary=" real"', boundary=" real"),
    "a folded Content-Type field":
        many_parts('Content-Type:\r\n multipart/mixed;\r\n\tboundary=real'),
    # The parser ends lines at CR as well as LF.
    "bare CR line ends in the body":
        many_parts('Content-Type: multipart/mixed; boundary="real"', eol="\r"),
}


@pytest.mark.parametrize("raw", SPELLINGS.values(), ids=SPELLINGS.keys())
def test_a_mail_with_too_many_parts_is_rejected_however_its_boundary_is_spelled(raw: bytes) -> None:
    """Each spelling really gives the parser more parts than the limit, and the limit applies."""
    assert stdlib_shape(raw)[0] > LIMITS.max_parts
    with pytest.raises(Reject, match=f"more than {LIMITS.max_parts} MIME parts"):
        parse(raw, LIMITS)


@pytest.mark.parametrize("raw", SPELLINGS.values(), ids=SPELLINGS.keys())
def test_the_same_spellings_under_the_limit_parse(raw: bytes) -> None:
    """The scan reads these boundaries as the parser does: no honest mail is refused for its spelling."""
    mail = parse(raw, Limits(max_parts=PARTS + 1))
    assert "part 0" in mail.text and f"part {PARTS - 1}" in mail.text


def test_delimiters_between_header_lines_end_parts_as_the_parser_reads_them() -> None:
    """Parts with headers and no blank line: a delimiter ends a header block too."""
    raw = (HEAD + 'Content-Type: multipart/mixed; boundary="real"\r\n\r\n'
           + "--real\r\nContent-Type: text/plain\r\n" * PARTS + "--real--\r\n").encode()
    assert stdlib_shape(raw)[0] > LIMITS.max_parts
    with pytest.raises(Reject, match=f"more than {LIMITS.max_parts} MIME parts"):
        parse(raw, LIMITS)


@pytest.mark.parametrize("separator", ["\r\n", "\n", "\r"])
def test_each_block_of_a_delivery_status_counts_as_a_part(separator: str) -> None:
    """The parser makes a message of every header block of message/delivery-status."""
    raw = (HEAD + "Content-Type: message/delivery-status\r\n\r\n").encode() \
        + f"Final-Recipient: rfc822; x@example.com{separator}{separator}".encode() * PARTS
    assert stdlib_shape(raw)[0] > LIMITS.max_parts
    with pytest.raises(Reject, match=f"more than {LIMITS.max_parts} MIME parts"):
        parse(raw, LIMITS)


def _nested_messages(subtype: str, levels: int) -> bytes:
    return (HEAD + f"Content-Type: message/{subtype}\r\n\r\n" * levels + "Content-Type: text/plain\r\n\r\nhi\r\n").encode()


def _nested_digests(levels: int) -> bytes:
    # A part of multipart/digest without a Content-Type is message/rfc822 (RFC 2046 5.1.5).
    out = HEAD
    for i in range(levels):
        out += f'Content-Type: multipart/digest; boundary="d{i}"\r\n\r\n--d{i}\r\n\r\n'
    return (out + "hi\r\n").encode()


DEEP = {
    "message/partial": _nested_messages("partial", 20),
    "an unknown message subtype": _nested_messages("x-anything", 20),
    "message/rfc822 in upper case": _nested_messages("RFC822", 20),
    "multipart/digest parts without a type": _nested_digests(20),
}


@pytest.mark.parametrize("raw", DEEP.values(), ids=DEEP.keys())
def test_nesting_past_the_limit_is_rejected_whatever_message_type_opens_it(raw: bytes) -> None:
    """Every message/* type is a nested message to the parser, and so is a typeless digest part."""
    assert stdlib_shape(raw)[1] > LIMITS.max_depth
    with pytest.raises(Reject, match=f"MIME nesting deeper than {LIMITS.max_depth} levels"):
        check_shape(raw, LIMITS)


def test_a_lookalike_boundary_line_is_no_delimiter() -> None:
    """Only the boundary itself, then "--" or spaces, delimits: "--realer" is text in a part."""
    raw = many_parts('Content-Type: multipart/mixed; boundary="real"', parts=3).replace(b"part 1", b"--realer\r\n--REAL")
    mail = parse(raw, Limits(max_parts=4))
    assert "--realer" in mail.text and "--REAL" in mail.text


# Lines mail is built of, each spelling of a boundary and type among them, joined with any line end:
# random mail then reaches structures no one wrote a case for.
_LINES = [
    'Content-Type: multipart/mixed; boundary="b"', "Content-Type: multipart/mixed; boundary=b",
    'Content-Type: multipart/mixed; x-boundary="b"; boundary="c"', "Content-Type: multipart/digest; boundary=d",
    'Content-Type: multipart/mixed; boundary*0="b"; boundary*1="x"', "Content-Type: multipart/mixed; boundary*=us-ascii'en'c",
    "Content-Type: multipart/alternative;", " boundary=c", "Content-Type: text/plain", "Content-Type: message/rfc822",
    "Content-Type: message/partial; id=1", "Content-Type: message/delivery-status", "Content-Type: Message/X-Other",
    "Content-Type: (comment) multipart/mixed; boundary=b", "Content-Type : multipart/mixed; boundary=b",
    "From a@b", "X-Other: v", "no header here", "", "", "", "--b", "--b--", "--c", "--c--", "--d", "--d--",
    "--bx", "--b  ", "--B", "--c\t--", "body text", "  ", "\t--b", 'Content-Type: multipart/mixed; boundary=""',
    "--", "----", "Content-Type: multipart/mixed; boundary=\u00e9", "--\u00e9", "Content-Type: multipart/digest; boundary=b",
    "Content-Transfer-Encoding: base64", ": no name",
]
_EOLS = ["\r\n", "\n", "\r"]


@settings(max_examples=1000, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.tuples(st.sampled_from(_LINES), st.sampled_from(_EOLS)), max_size=60))
def test_the_scan_never_counts_fewer_parts_or_levels_than_the_parser_builds(lines: list[tuple[str, str]]) -> None:
    """With the limit just under what the stdlib built, the scan refuses the mail: it saw at least as much."""
    raw = "".join(line + eol for line, eol in lines).encode()
    count, depth = stdlib_shape(raw)
    roomy = Limits(max_header_bytes=1 << 20, max_header_field_bytes=1 << 20, max_parts=10_000, max_depth=1000)
    check_shape(raw, roomy)
    if count > 1:
        with pytest.raises(Reject, match="MIME parts"):
            check_shape(raw, dataclasses.replace(roomy, max_parts=count - 1))
    if depth > 0:
        with pytest.raises(Reject, match="MIME nesting"):
            check_shape(raw, dataclasses.replace(roomy, max_depth=depth - 1))


def test_parts_inside_a_block_of_a_delivery_status_count() -> None:
    """A block is a part like any other until an empty line: a multipart without one hides in it."""
    block = 'Content-Type: multipart/mixed; boundary="real"\r\n' + "--real\r\nContent-Type: text/plain\r\n" * PARTS
    raw = (HEAD + "Content-Type: message/delivery-status\r\n\r\n" + block + "\r\n").encode()
    assert stdlib_shape(raw)[0] > LIMITS.max_parts
    with pytest.raises(Reject, match=f"more than {LIMITS.max_parts} MIME parts"):
        parse(raw, LIMITS)


@pytest.mark.parametrize("spelling", hostile_mail.SPELLINGS)
def test_the_bench_mails_build_what_they_claim_in_the_stdlib_parser_and_are_rejected(spelling: str) -> None:
    """``make bench`` (tests/bench/parser_bounds.py) shows these rejected at a million parts and
    100,000 levels: at a small size each really gives the stdlib parser that many, and the scan sees them."""
    parts, levels = hostile_mail.many_parts(PARTS, spelling), hostile_mail.deep(LIMITS.max_depth + 2, spelling)
    assert stdlib_shape(parts)[0] == PARTS + 1 and stdlib_shape(levels)[1] == LIMITS.max_depth + 2
    with pytest.raises(Reject, match="MIME parts"):
        parse(parts, LIMITS)
    with pytest.raises(Reject, match="MIME nesting"):
        parse(levels, LIMITS)
