"""Attachment and body bytes the stdlib leaves undecoded or cuts short: every block of a delivery
status, broken base64 decoded as far as it goes, a transfer encoding written with trailing spaces,
and a multipart without its boundary lines, whose text is the body."""

from __future__ import annotations

import base64
import hashlib

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from services.parser.mime import parse_bytes
from services.parser.transfer import lenient_base64
from tests.unit.parser.conftest import parse

HEAD = "From: ann@example.com\r\nTo: support@example.com\r\nSubject: s\r\nMIME-Version: 1.0\r\n"


def _one_part(ctype: str, encoding: str, body: str) -> str:
    return (HEAD + f"Content-Type: multipart/mixed; boundary=b\r\n\r\n--b\r\nContent-Type: text/plain\r\n\r\nsee\r\n"
            f"--b\r\nContent-Type: {ctype}\r\nContent-Disposition: attachment; filename=f.bin\r\n"
            f"Content-Transfer-Encoding: {encoding}\r\n\r\n{body}\r\n--b--\r\n")


def _report(recipients: list[tuple[str, str]]) -> bytes:
    blocks = "".join(f"Final-Recipient: rfc822; {r}\r\nAction: failed\r\nStatus: {s}\r\n"
                     f"Diagnostic-Code: smtp; 550 {s} no such user {r}\r\n\r\n" for r, s in recipients)
    return (f"From: MAILER-DAEMON@mx.example\r\nTo: ann@example.com\r\nSubject: Undelivered Mail\r\n"
            "MIME-Version: 1.0\r\nContent-Type: multipart/report; report-type=delivery-status; boundary=r\r\n\r\n"
            "--r\r\nContent-Type: text/plain\r\n\r\nThe mail system.\r\n--r\r\n"
            "Content-Type: message/delivery-status\r\n\r\nReporting-MTA: dns; mx.example\r\n"
            f"Arrival-Date: Thu, 1 Jan 2026 10:00:00 +0000\r\n\r\n{blocks}--r--\r\n").encode()


@pytest.mark.parametrize("count", [1, 2, 5])
def test_a_delivery_status_attachment_keeps_every_recipient_block(count: int) -> None:
    recipients = [(f"user{n}@example.org", f"5.1.{n}") for n in range(count)]
    mail = parse_bytes(_report(recipients))
    [status] = [p for p in mail.parts if p.content_type == "message/delivery-status"]
    text = status.data.decode()
    assert text.startswith("Reporting-MTA: dns; mx.example\r\n")
    for address, code in recipients:
        assert f"Final-Recipient: rfc822; {address}\r\nAction: failed\r\nStatus: {code}\r\n" in text
        assert f"Diagnostic-Code: smtp; 550 {code} no such user {address}" in text
    assert text.count("\r\n\r\n") == count + 1


@pytest.mark.parametrize(("body", "want"), [
    ("QUJDREVGR0hJ\r\nS", b"ABCDEFGHI"),  # a dangling character
    ("QUJD\r\nREVG\r\nR0g", b"ABCDEFGH"),  # missing padding (the stdlib pads this itself)
    ("QUJD!!REVG\r\nR0hJ\r\nSk", b"ABCDEFGHIJ"),  # characters outside the alphabet
    ("QUJD\r\nRA==\r\nRUZH\r\nS", b"ABCDEFG"),  # two encoded pieces joined, the second cut
])
def test_broken_base64_is_decoded_as_far_as_it_goes(body: str, want: bytes) -> None:
    got = parse(_one_part("application/octet-stream", "base64", body))
    [attachment] = got.attachments
    assert attachment.sha256 == hashlib.sha256(want).hexdigest() and attachment.size == len(want)


def test_broken_base64_is_a_defect() -> None:
    got = parse(_one_part("application/octet-stream", "base64", "QUJDREVGR0hJ\r\nS"))
    assert "attachment 1: broken base64, decoded as far as it goes" in got.defects


@settings(max_examples=200, deadline=None)
@given(st.binary(min_size=1, max_size=300), st.integers(min_value=0, max_value=3), st.integers(min_value=1, max_value=76))
def test_lenient_base64_gives_back_every_whole_byte(data: bytes, cut: int, width: int) -> None:
    encoded = base64.b64encode(data).rstrip(b"=")
    encoded = encoded[:len(encoded) - cut] if cut < len(encoded) else encoded
    lines = b"\r\n".join(encoded[i:i + width] for i in range(0, len(encoded), width))
    got = lenient_base64(lines)
    assert data.startswith(got) and len(got) >= len(encoded) * 3 // 4 - 1


@pytest.mark.parametrize("encoding", ["quoted-printable  ", "quoted-printable\t", "Quoted-Printable (by hand)",
                                      "QUOTED-PRINTABLE ", " quoted-printable "])
def test_quoted_printable_written_with_spaces_or_a_comment_is_decoded(encoding: str) -> None:
    raw = (HEAD + f"Content-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: {encoding}\r\n\r\n"
           "Gr=C3=BC=C3=9Fe, the printer=\r\n jams.\r\n")
    got = parse(raw)
    assert got.text == "Grüße, the printer jams."


def test_quoted_printable_attachment_with_a_trailing_space_is_decoded() -> None:
    got = parse(_one_part("application/octet-stream", "quoted-printable ", "a=3Db=\r\nc"))
    [attachment] = got.attachments
    assert attachment.sha256 == hashlib.sha256(b"a=bc").hexdigest()


def test_base64_written_with_a_trailing_space_is_decoded() -> None:
    got = parse(_one_part("application/octet-stream", "base64  ", "QUJD"))
    assert got.attachments[0].sha256 == hashlib.sha256(b"ABC").hexdigest()


@pytest.mark.parametrize("ctype", ['multipart/mixed; boundary="abc"', "multipart/alternative; boundary=zz",
                                   "multipart/mixed", 'multipart/related; boundary="--=_x"'])
def test_a_multipart_without_boundary_lines_is_the_customer_s_text(ctype: str) -> None:
    raw = HEAD + f"Content-Type: {ctype}\r\n\r\nHello,\r\n\r\nmy printer is broken.\r\n"
    got = parse(raw)
    assert got.text == "Hello,\n\nmy printer is broken."
    assert got.attachments == []
    assert any("Boundary" in d for d in got.defects)


def test_a_nested_multipart_without_boundary_lines_is_body_text_too() -> None:
    raw = (HEAD + "Content-Type: multipart/mixed; boundary=out\r\n\r\n--out\r\n"
           "Content-Type: multipart/alternative; boundary=gone\r\n\r\nThe scanner on floor 3 is offline.\r\n"
           "--out\r\nContent-Type: application/pdf\r\nContent-Disposition: attachment; filename=log.pdf\r\n\r\n"
           "%PDF\r\n--out--\r\n")
    got = parse(raw)
    assert got.text == "The scanner on floor 3 is offline."
    assert [a.filename for a in got.attachments] == ["log.pdf"]
