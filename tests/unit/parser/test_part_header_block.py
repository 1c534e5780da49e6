"""A damaged header block inside a MIME part still gives the part's type, disposition and file
name: a junk line before the part's first field is skipped, a line between two of its fields
continues the field above, and each repair is a defect. A part's text that only looks like a field
is left as text."""

from __future__ import annotations

import base64

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.unit.parser.conftest import parse

PDF = b"%PDF-1.4 report"


def _mail(part_head: list[str], eol: str = "\r\n", body: bytes = PDF, nested: bool = False) -> bytes:
    e = eol.encode()
    part = e.join([h.encode() for h in part_head]) + e + e + base64.b64encode(body) + e
    inner = b"--b" + e + b"Content-Type: text/plain" + e + e + b"See the report." + e + b"--b" + e + part + b"--b--" + e
    if nested:
        inner = (b"--outer" + e + b'Content-Type: multipart/mixed; boundary="b"' + e + e + inner
                 + b"--outer--" + e)
    head = e.join([b"From: ann@example.com", b"Subject: report", b"MIME-Version: 1.0",
                   b'Content-Type: multipart/mixed; boundary="' + (b"outer" if nested else b"b") + b'"'])
    return head + e + e + inner


PART = ["Content-Type: application/pdf; name=\"report.pdf\"", "Content-Disposition: attachment; filename=\"report.pdf\"",
        "Content-Transfer-Encoding: base64"]


@pytest.mark.parametrize("junk", ["---- Original message ----", "-----Original Message-----", "> pasted", "=== x ==="])
@pytest.mark.parametrize("eol", ["\r\n", "\n"])
def test_a_junk_line_before_a_part_s_first_field_is_skipped(junk: str, eol: str) -> None:
    got = parse(_mail([junk, *PART], eol))
    assert [(a.filename, a.content_type, a.size) for a in got.attachments] == [("report.pdf", "application/pdf", len(PDF))]
    assert got.text == "See the report."
    assert "part header block: 1 line(s) before the first field skipped" in got.defects


@pytest.mark.parametrize(("head", "continued"), [
    (["Content-Type: application/pdf;", 'name="report.pdf"', "Content-Disposition: attachment;",
      'filename="report.pdf"', "Content-Transfer-Encoding: base64"], 2),
    (["Content-Type: application/pdf", "Content-Disposition: attachment; filename=\"report", 'final.pdf"',
      "Content-Transfer-Encoding: base64"], 1),
    (["Content-Disposition: attachment;", "filename*0=report;", "filename*1=.pdf", "Content-Type: application/pdf",
      "Content-Transfer-Encoding: base64"], 2),
])
def test_a_part_s_field_continued_without_folding_is_read(head: list[str], continued: int) -> None:
    got = parse(_mail(head))
    assert len(got.attachments) == 1
    att = got.attachments[0]
    assert att.content_type == "application/pdf" and att.size == len(PDF)
    assert att.filename in ("report.pdf", "report final.pdf")
    assert f"part header block: {continued} line(s) without a field name read as continuations" in got.defects
    assert got.text == "See the report."


def test_a_part_in_a_nested_multipart_is_repaired_too() -> None:
    got = parse(_mail(["---- pasted ----", *PART], nested=True))
    assert [a.filename for a in got.attachments] == ["report.pdf"]
    assert "part header block: 1 line(s) before the first field skipped" in got.defects


def test_a_part_whose_text_only_looks_like_a_field_stays_text() -> None:
    """No Content- field is lost: nothing is a header here, the part is text as the stdlib reads it."""
    raw = (b"From: ann@example.com\r\nSubject: s\r\nMIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=b\r\n\r\n"
           b"--b\r\nContent-Type: text/plain\r\n\r\nfirst\r\n--b\r\nHello Bob,\r\nNote: the printer jams.\r\n\r\nAnn\r\n--b--\r\n")
    got = parse(raw)
    assert not any(d.startswith("part header block") for d in got.defects)
    assert "Note: the printer jams." in got.text


def test_an_intact_multipart_is_not_reparsed() -> None:
    got = parse(_mail(PART))
    assert [a.filename for a in got.attachments] == ["report.pdf"]
    assert not any("header block" in d for d in got.defects)


def test_a_broken_top_level_block_and_a_broken_part_are_both_repaired() -> None:
    raw = b"---- Original message ----\r\n" + _mail(["junk line", *PART])
    got = parse(raw)
    assert got.subject == "report" and [a.filename for a in got.attachments] == ["report.pdf"]
    assert "header block: 1 line(s) before the first field skipped" in got.defects
    assert "part header block: 1 line(s) before the first field skipped" in got.defects


JUNK = st.lists(st.text(alphabet="abcdefghij -=>", min_size=1, max_size=30)
                .filter(lambda s: s.strip() and not s.startswith(("-", " "))), min_size=1, max_size=3)
NAME = st.text(alphabet="abcdefghijklmnopqrstuvwxyz", min_size=1, max_size=12)


@settings(max_examples=100, deadline=None)
@given(JUNK, NAME, st.sampled_from(["\r\n", "\n"]))
def test_any_junk_before_a_part_s_fields_keeps_its_name_and_bytes(junk: list[str], name: str, eol: str) -> None:
    head = [f'Content-Type: application/octet-stream; name="{name}.dat"',
            f'Content-Disposition: attachment; filename="{name}.dat"', "Content-Transfer-Encoding: base64"]
    got = parse(_mail([*junk, *head], eol, body=name.encode() * 3))
    assert [(a.filename, a.size) for a in got.attachments] == [(f"{name}.dat", 3 * len(name))]
    assert f"part header block: {len(junk)} line(s) before the first field skipped" in got.defects
