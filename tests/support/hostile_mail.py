"""Mail shaped to cost the parser: many parts, deep nesting, big attachments, with the boundary spelled
each way the shape scan must read as the stdlib parser does (docs/parser-bounds.md)."""

from __future__ import annotations

import base64
import random

HEAD = (b"From: Big Sender <big@example.com>\r\nTo: support@example.com\r\nSubject: shaped\r\n"
        b"Message-ID: <shaped@example.com>\r\nMIME-Version: 1.0\r\n")


def _plain(b: str) -> str:
    return f'Content-Type: multipart/mixed; boundary="{b}"'


def _decoy(b: str) -> str:
    return f'Content-Type: multipart/mixed; x-boundary="not-{b}"; boundary="{b}"; y-boundary=not-{b}'


def _continued(b: str) -> str:
    return f'Content-Type: multipart/mixed;\r\n boundary*0="{b[:1]}";\r\n boundary*1="{b[1:]}"'


def _second_field(b: str) -> str:
    return f'Content-Type: multipart/mixed; boundary="{b}"\r\nContent-Type: text/plain; boundary="not-{b}"'


# How the multipart's Content-Type names its boundary; the boundary is always two characters or more.
SPELLINGS = {
    "boundary=": _plain,
    "x-boundary= decoys": _decoy,
    "RFC 2231 boundary*0= continuations": _continued,
    "a second Content-Type field": _second_field,
}


def many_parts(count: int, spelling: str = "boundary=") -> bytes:
    """One multipart of ``count`` tiny text parts (35 bytes each)."""
    part = b"--bx\r\nContent-Type: text/plain\r\n\r\nx\r\n"
    return HEAD + SPELLINGS[spelling]("bx").encode() + b"\r\n\r\n" + part * count + b"--bx--\r\n"


def deep(levels: int, spelling: str = "boundary=") -> bytes:
    """Multiparts nested ``levels`` deep, a text part in the innermost."""
    out = [HEAD]
    for i in range(levels):
        out.append(SPELLINGS[spelling](f"b{i}").encode() + b"\r\n\r\n--b%d\r\n" % i)
    out.append(b"Content-Type: text/plain\r\n\r\nhello\r\n")
    out.extend(b"--b%d--\r\n" % i for i in reversed(range(levels)))
    return b"".join(out)


def _attachment(data: bytes, name: str) -> bytes:
    return (b"Content-Type: application/pdf\r\nContent-Transfer-Encoding: base64\r\n"
            b'Content-Disposition: attachment; filename="' + name.encode() + b'"\r\n\r\n'
            + base64.encodebytes(data).replace(b"\n", b"\r\n"))


def attachments(count: int, each: int, seed: int = 10) -> tuple[bytes, list[bytes]]:
    """A text part and ``count`` base64 attachments of ``each`` random bytes: the mail and the data."""
    rnd = random.Random(seed)
    data = [rnd.randbytes(each) for _ in range(count)]
    body = [b"--b1\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nThe reports are attached.\r\n"]
    body += [b"--b1\r\n" + _attachment(d, f"report-{n}.pdf") for n, d in enumerate(data)]
    return HEAD + _plain("b1").encode() + b"\r\n\r\n" + b"".join(body) + b"--b1--\r\n", data


def big_attachment(size: int, seed: int = 10) -> tuple[bytes, bytes]:
    """A mail of about ``size`` bytes, nearly all one base64 attachment: the mail and its data."""
    raw, [data] = attachments(1, size * 3 // 4, seed)
    return raw, data
