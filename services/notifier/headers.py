"""Header fields of the outgoing mail, written as text. Every value is flattened to one line first,
so nothing copied from an incoming mail can inject a header.

Plain printable ASCII is written as it is, folded at its spaces when the line would pass 78
characters. Anything else (non-ASCII, control characters) becomes RFC 2047 encoded words of UTF-8,
one per line, each holding whole characters: readers join adjacent encoded words without the white
space between them (§6.2). This is what ``email.policy.SMTP`` writes for such values, without its
header parser and folding, which cost more than the rest of a send."""

from __future__ import annotations

import base64
from email import policy

from shared.contracts import Address

CRLF = "\r\n"
SOFT_LIMIT = 78  # RFC 5322 §2.1.1: a line SHOULD stay within 78 characters
HARD_LIMIT = 998  # and MUST stay within 998
_WORD_LIMIT = 75  # RFC 2047 §2: an encoded word is at most 75 characters
# RFC 2047 §5(3): the characters a "Q" encoded word may carry as they are, even in a display name.
_Q_PLAIN = frozenset(b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789!*+-/")
_Q_BYTE = [chr(b) if b in _Q_PLAIN else "_" if b == 0x20 else f"={b:02X}" for b in range(256)]


def one_line(text: str) -> str:
    return " ".join(text.split())


def _plain(value: str) -> bool:
    return value.isascii() and value.isprintable()


def _q(data: bytes) -> str:
    return "".join([_Q_BYTE[b] for b in data])


def encoded_words(text: str, first_room: int) -> list[str]:
    """``text`` as encoded words, the first at most ``first_room`` characters long, the others at most
    75. "Q" (readable) or "B", whichever is shorter for the whole text, as the standard library
    chooses; a word never splits a character's bytes (RFC 2047 §5)."""
    data = text.encode("utf-8")
    q = _q(data)
    # At least 12 characters of payload: a 4-byte character takes that much in "Q".
    first = max(min(first_room, _WORD_LIMIT) - len("=?utf-8?q??="), 12)
    room = _WORD_LIMIT - len("=?utf-8?q??=")
    if len(q) <= _b64_len(len(data)):
        return [f"=?utf-8?q?{part}?=" for part in _split_q(q, first, room)]
    return [f"=?utf-8?b?{base64.b64encode(part).decode('ascii')}?=" for part in _split_b(data, first, room)]


def _split_q(q: str, first: int, room: int) -> list[str]:
    """Cuts of at most ``first``, then ``room`` characters, never inside an =XX escape nor before an
    escaped UTF-8 continuation byte (=80 to =BF: "=" only ever starts an escape)."""
    parts, start, size = [], 0, first
    while len(q) - start > size:
        cut = start + size
        if q[cut - 1] == "=":
            cut -= 1
        elif q[cut - 2] == "=":
            cut -= 2
        while q[cut] == "=" and q[cut + 1] in "89AB":
            cut -= 3
        parts.append(q[start:cut])
        start, size = cut, room
    parts.append(q[start:])
    return parts


def _split_b(data: bytes, first: int, room: int) -> list[bytes]:
    """Cuts of whole characters whose base64 takes at most ``first``, then ``room`` characters."""
    parts, start, size = [], 0, first // 4 * 3
    while len(data) - start > size:
        cut = start + size
        while data[cut] & 0xC0 == 0x80:  # a continuation byte: the character began before the cut
            cut -= 1
        parts.append(data[start:cut])
        start, size = cut, room // 4 * 3
    parts.append(data[start:])
    return parts


def _b64_len(n: int) -> int:
    return (n + 2) // 3 * 4


def _folded(name: str, parts: list[str]) -> str:
    """``name: part1 part2 ...``, a new line (a space at its start) wherever the next part would
    pass 78 characters."""
    lines, line = [], f"{name}:"
    for part in parts:
        if len(line) + 1 + len(part) > SOFT_LIMIT and line != f"{name}:":
            lines.append(line)
            line = ""
        line += " " + part
    lines.append(line)
    return CRLF.join(lines) + CRLF


def header(name: str, value: str) -> str:
    """One header field, CRLF-terminated; ``value`` is flattened to one line first."""
    value = one_line(value)
    if _plain(value):
        text = _folded(name, value.split(" ")) if len(name) + 2 + len(value) > SOFT_LIMIT else f"{name}: {value}{CRLF}"
        if all(len(line) <= HARD_LIMIT for line in text.split(CRLF)):
            return text
        return policy.SMTP.header_factory(name, value).fold(policy=policy.SMTP)  # one giant word
    return _folded(name, encoded_words(value, SOFT_LIMIT - len(name) - 2))


def address_header(name: str, address: Address) -> str:
    """``To``-style field of one address: a display name that is not plain ASCII is written as
    encoded words (RFC 2047 §5(3) allows them in place of a phrase's words)."""
    display, addr = one_line(address.name), one_line(address.address)
    if not display or _plain(display) or not _plain(addr):
        # An internationalized address (RFC 6532) cannot be encoded: the standard library decides.
        return header(name, address.formatted())
    return _folded(name, [*encoded_words(display, SOFT_LIMIT - len(name) - 2), f"<{addr}>"])


def references(ids: list[str]) -> str:
    """Message-IDs one per line: folding between them is always allowed (RFC 5322 §3.6.4)."""
    flat = [f for f in map(one_line, ids) if f]
    if not flat:
        return ""
    if all(_plain(i) and len(i) < SOFT_LIMIT - len("References: ") for i in flat):
        return "References: " + f"{CRLF} ".join(flat) + CRLF
    return header("References", " ".join(flat))
