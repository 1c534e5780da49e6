"""RFC 2047 encoded words, decoded the way mail clients do: adjacent words joined before decoding
(a multi-byte character may be split across two words), the white space between them dropped, and
the charset label read leniently and checked against the bytes (``header_charsets``)."""

from __future__ import annotations

import binascii
import re

from services.parser import charsets, header_charsets
from services.parser.header_charsets import Hint

# charset, optional RFC 2231 language, encoding, text.  Q text may not contain "?" or white space.
# Real mail folds inside words and puts spaces in them; a word never spans a "?", so it cannot
# swallow the next one.
_WORD = re.compile(r"=\?([^?\s*]+)(?:\*[^?\s]*)?\?([QqBb])\?([^?]*)\?=")
_HEX = re.compile(rb"=([0-9A-Fa-f]{2})")


def decode_words(value: str, defects: list[str], where: str, hint: Hint = None) -> str:
    out: list[str] = []
    run: list[tuple[str, bytes]] = []  # adjacent encoded words not yet decoded
    pos = 0
    for match in _WORD.finditer(value):
        between = value[pos:match.start()]
        if between and (between.strip() or not run):
            _flush(run, out, defects, where, hint)
            out.append(charsets.unescape_8bit(between, defects, where, hint))
        charset, kind, text = match.groups()
        data = _b(text, defects, where) if kind in "Bb" else _q(text)
        if run and run[-1][0] == charset.lower():
            run[-1] = (run[-1][0], run[-1][1] + data)
        else:
            run.append((charset.lower(), data))
        pos = match.end()
    _flush(run, out, defects, where, hint)
    out.append(charsets.unescape_8bit(value[pos:], defects, where, hint))
    return "".join(out)


def _flush(run: list[tuple[str, bytes]], out: list[str], defects: list[str], where: str, hint: Hint) -> None:
    for charset, data in run:
        out.append(header_charsets.read(data, charset, hint, defects, where))
    run.clear()


def _q(text: str) -> bytes:
    data = text.replace("_", " ").encode("utf-8", errors="surrogateescape")
    return _HEX.sub(lambda m: bytes([int(m.group(1), 16)]), data)


def _b(text: str, defects: list[str], where: str) -> bytes:
    clean = re.sub(r"[^A-Za-z0-9+/]", "", text)
    if len(clean) % 4 == 1:  # one dangling character carries no whole byte
        clean = clean[:-1]
    if clean != text.rstrip("="):
        defects.append(f"{where}: malformed base64 encoded word repaired")
    try:
        return binascii.a2b_base64(clean + "=" * (-len(clean) % 4))
    except binascii.Error:
        defects.append(f"{where}: undecodable base64 encoded word kept as text")
        return text.encode("ascii", errors="replace")
