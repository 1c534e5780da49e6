"""The parser's peak memory stays under four times the mail's size plus a constant (docs/parser-bounds.md),
for a big attachment, an attachment not in base64, hundreds of attachments and a mail of thousands
of parts; each measured in a process of its own (tests/support/parser_memory.py).

The stdlib parser alone holds what it parses about seven times over. Without the held bodies
(services/parser/held.py) the 8-bit attachment costs twelve times its size, the attachments and the
text parts seven; without the part limit the mail of tiny parts costs thirty-five times its size,
and more than the time bound."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from tests.support import hostile_mail
from tests.support.parser_memory import measure


def test_a_big_attachment_costs_the_parser_less_than_half_the_mail_beyond_the_mail_itself(tmp_path: Path) -> None:
    """Issue 10's shape, scaled from 50 MB to 24 MB: the attachment streams from the raw mail to the
    store, so normalize's peak over the raw mail it is handed stays under half the mail's size."""
    raw, data = hostile_mail.big_attachment(24 * 1024 * 1024)
    (tmp_path / "big.eml").write_bytes(raw)
    figures = measure(tmp_path / "big.eml", tmp_path / "blobs")
    assert figures.rejected is None
    assert figures.sizes == [len(data)] and figures.sha256 == [hashlib.sha256(data).hexdigest()]
    assert figures.over_the_mail < len(raw) / 2, f"peak over the mail: {figures.over_the_mail / len(raw):.2f} times it"
    assert figures.cost < figures.bound


def _octet_stream_8bit(size: int) -> bytes:
    line = b"2026-12-03 09:00:00 worker 7: job done in 12 ms, \xe9t\xe9 \xfcber alles, nothing to report\r\n"
    return (hostile_mail.HEAD + b'Content-Type: multipart/mixed; boundary="b1"\r\n\r\n--b1\r\n'
            b"Content-Type: text/plain\r\n\r\nThe log is attached.\r\n--b1\r\n"
            b"Content-Type: application/octet-stream\r\nContent-Transfer-Encoding: 8bit\r\n"
            b'Content-Disposition: attachment; filename="worker.log"\r\n\r\n' + line * (size // len(line)) + b"--b1--\r\n")


def _text_parts(count: int, each: int) -> bytes:
    line = b"The quick brown fox jumps over the lazy dog, again and again and again.\r\n"
    part = b"--b1\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n" + line * (each // len(line))
    return hostile_mail.HEAD + b'Content-Type: multipart/mixed; boundary="b1"\r\n\r\n' + part * count + b"--b1--\r\n"


SHAPES = {
    "600 text parts of 11 KB (6.6 MB)": (lambda: _text_parts(600, 11_000), None),
    "a 12 MB attachment in 8bit, not base64": (lambda: _octet_stream_8bit(12_000_000), None),
    "600 attachments of 8 KB (6.6 MB)": (lambda: hostile_mail.attachments(600, 8000)[0], None),
    "30,000 tiny parts (1 MB), past the part limit": (lambda: hostile_mail.many_parts(30_000), "MIME parts"),
}


@pytest.mark.parametrize("shape", SHAPES, ids=SHAPES)
def test_the_parse_peaks_under_four_times_the_mail_plus_a_constant(shape: str, tmp_path: Path) -> None:
    make, rejected = SHAPES[shape]
    raw = make()
    (tmp_path / "mail.eml").write_bytes(raw)
    figures = measure(tmp_path / "mail.eml", None)
    assert (figures.rejected is None) if rejected is None else (rejected in (figures.rejected or ""))
    assert figures.cost < figures.bound, (
        f"{figures.cost / 1e6:.1f} MB for a mail of {len(raw) / 1e6:.1f} MB: {figures.cost / len(raw):.1f} times it")
