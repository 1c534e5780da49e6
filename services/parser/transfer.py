"""A part's bytes with its transfer encoding undone, where the stdlib leaves it undone.

``Message.get_payload(decode=True)`` compares the Content-Transfer-Encoding value as written, so
``quoted-printable`` with trailing spaces or a comment is taken for an unknown encoding and the
encoded text is handed on; and base64 whose characters do not come out in groups of four is handed
on undecoded (``InvalidBase64LengthDefect``), or cut at the first padding when encoded pieces were
joined. Mail clients decode both, base64 as far as it goes, and so do we, recording the defect.
"""

from __future__ import annotations

import binascii
import quopri
import re
from email.errors import InvalidBase64CharactersDefect, InvalidBase64LengthDefect
from email.message import Message

_NOT_BASE64 = re.compile(rb"[^A-Za-z0-9+/]+")
_PADDING = re.compile(rb"=+")
# The stdlib hands the text on undecoded (length), or stops at the first padding (characters).
_BROKEN = (InvalidBase64LengthDefect, InvalidBase64CharactersDefect)


def decoded_bytes(part: Message, defects: list[str], where: str) -> bytes:
    """``part``'s body decoded; raises what ``get_payload`` raises."""
    seen = len(part.defects)
    data = part.get_payload(decode=True)
    if not isinstance(data, bytes):
        return b""
    header = part.get("content-transfer-encoding")
    if header is None:
        return data
    written = str(header).lower()
    encoding = str(getattr(header, "cte", written)).strip().lower()
    if encoding != written and encoding == "quoted-printable":
        defects.append(f"{where}: Content-Transfer-Encoding {written[:40]!r} read as quoted-printable")
        return quopri.decodestring(data)
    if encoding != written and encoding == "base64":
        defects.append(f"{where}: Content-Transfer-Encoding {written[:40]!r} read as base64")
        return lenient_base64(data)
    if encoding == "base64" and any(isinstance(d, _BROKEN) for d in part.defects[seen:]):
        cut = any(isinstance(d, InvalidBase64LengthDefect) for d in part.defects[seen:])
        text = part.get_payload()
        better = lenient_base64(text.encode("ascii", "surrogateescape")) if isinstance(text, str) else b""
        if cut or len(better) > len(data):
            defects.append(f"{where}: broken base64, decoded as far as it goes")
            return better
    return data


def lenient_base64(data: bytes) -> bytes:
    """Every whole byte ``data`` encodes: characters outside the alphabet skipped, each run ended by
    padding decoded on its own (some clients join encoded pieces), a dangling last character dropped."""
    out = []
    for run in _PADDING.split(data):
        clean = _NOT_BASE64.sub(b"", run)
        if len(clean) % 4 == 1:
            clean = clean[:-1]
        if clean:
            out.append(binascii.a2b_base64(clean + b"=" * (-len(clean) % 4)))
    return b"".join(out)
