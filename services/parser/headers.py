"""Header values as we publish them: decoded, one line, free of control characters.

Headers are read from ``raw_items()`` and decoded here rather than through the policy's header
objects: those parse in time quadratic in the header's length, and a structured header must be
split into addresses *before* its encoded words are decoded, or an encoded ``>, evil@example.com``
in a display name becomes a second address.
"""

from __future__ import annotations

import re
import unicodedata
from datetime import UTC, datetime
from email.message import Message
from email.utils import parsedate_to_datetime

from services.parser import address_reading
from services.parser.charsets import unescape_8bit
from services.parser.encoded_words import decode_words
from services.parser.header_charsets import Hint
from services.parser.held import MailPart
from services.parser.registry import POLICY
from shared.contracts.common import Address

_FOLD = re.compile(r"\r?\n(?=[ \t])|\r?\n$")
# The parser's own header factory: the same mailboxes write to us all day, and its cache keeps a
# short address list it has seen from being parsed again (most of the cost of a small mail's headers).
_REGISTRY = POLICY.header_factory
_ADDR = re.compile(r"^[^\s<>()\[\]\\,;:\"@]+(?:\.[^\s<>()\[\]\\,;:\"@]+)*@[^\s<>@,;]+$|^\"[^\"\r\n]*\"@[^\s<>@,;]+$")
_ADJACENT_WORDS = re.compile(r"(\?=)[ \t]+(=\?)")
_COMMENT = re.compile(r"\([^()]*\)")
_ID = re.compile(r"^[^@\s<>]+@[^@\s<>]+$")
MAX_ADDRESSES = 1000
MAX_IDS = 500


def raw_values(msg: Message, name: str) -> list[str]:
    """Every value of header ``name``, unfolded; raw 8-bit bytes stay surrogate escapes."""
    if isinstance(msg, MailPart):  # what the parser made: its headers are indexed
        values = msg.raw_values(name)
    else:
        lname = name.lower()
        values = [value for key, value in msg.raw_items() if key.lower() == lname]
    return [_FOLD.sub("", str(value)) for value in values]


def first(msg: Message, name: str) -> str:
    values = raw_values(msg, name)
    return values[0] if values else ""


def one_line(text: str) -> str:
    """No CR, LF or other control character survives: a subject is copied into replies' headers."""
    if not text.isprintable():  # printable text has no control character and no surrogate to replace
        text = "".join(" " if cat == "Cc" else "\ufffd" if cat == "Cs" else ch
                       for ch, cat in ((c, unicodedata.category(c)) for c in text))
    return " ".join(text.split())


def unstructured(msg: Message, name: str, defects: list[str], hint: Hint = None) -> str:
    return decode_unstructured(first(msg, name), defects, name, hint)


def decode_unstructured(value: str, defects: list[str], name: str = "Subject", hint: Hint = None) -> str:
    return one_line(decode_words(value, defects, name, hint))  # decode_words recovers raw 8-bit text


def addresses(msg: Message, name: str, defects: list[str], hint: Hint = None) -> list[Address]:
    found: list[Address] = []
    for value in raw_values(msg, name):
        found.extend(parse_addresses(value, name, defects, hint))
    if len(found) > MAX_ADDRESSES:
        defects.append(f"{name}: {len(found)} addresses, kept the first {MAX_ADDRESSES}")
        found = found[:MAX_ADDRESSES]
    return found


def parse_addresses(value: str, name: str, defects: list[str], hint: Hint = None) -> list[Address]:
    found: list[Address] = []
    for chunk in _chunks(unescape_8bit(_FOLD.sub("", value), defects, name, hint)):
        found.extend(_parse_addresses(chunk, name, defects))
    return found


# An unquoted display name holding an "@" before an angle-addr (``known@a.example <other@b.example>``):
# RFC 5322 allows no "@" in a phrase, and the stdlib then takes the display text for the address.
# The angle-addr is the sender, always: the text is quoted, so it stays a display name (and a
# display name that is another address is a spoof sign the append rules refuse).
_AT_IN_PHRASE = re.compile(r'(^|,)([^",<>()]*@[^",<>()]*?)\s*(<[^<>"]*@[^<>"]*>)')


def _quote_phrase(match: re.Match[str]) -> str:
    phrase = match.group(2).strip().replace("\\", "\\\\")
    return f'{match.group(1)} "{phrase}" {match.group(3)}'


def _parse_addresses(value: str, name: str, defects: list[str]) -> list[Address]:
    value = _ADJACENT_WORDS.sub(r"\1\2", value)  # RFC 2047 section 6.2: the space between words goes
    quoted = _AT_IN_PHRASE.sub(_quote_phrase, value)
    if quoted != value:
        defects.append(f"{name}: a display name holds an address; the address in angle brackets is the sender")
        value = quoted
    parsed, malformed, failure = _registry_parse(name, value)
    if failure or (malformed and any(not _valid(spec) for _, spec in parsed)) or (malformed and not parsed):
        return _best_reading(value, name, defects, failure)
    if malformed:
        defects.append(f"{name}: malformed address list")
    named = _comment_names(value) if "(" in value and any(not display for display, _ in parsed) else {}
    out = []
    for display, spec in parsed:
        spec = spec.strip()
        if not _valid(spec):
            if spec and spec != "<>":
                defects.append(f"{name}: invalid address {one_line(spec)[:80]!r} dropped")
            continue
        if not display and spec.lower() in named:  # the old form: ann@example.com (Ann Example)
            display = named[spec.lower()]
        out.append(Address(name=one_line(display), address=spec))
    return out


def _valid(spec: str) -> bool:
    return bool(_ADDR.match(spec)) and len(spec) <= 320


def _comment_names(value: str) -> dict[str, str]:
    """The comment of each address that has one, by address: the name in ``user@host (Name)``."""
    return {r.address.lower(): decode_words(r.name, [], "address") for r in address_reading.read_list(value)
            if r.name}


def _best_reading(value: str, name: str, defects: list[str], failure: str) -> list[Address]:
    """The list the stdlib parser gave up on or found invalid, read leniently (``address_reading``)."""
    defects.append(f"{name}: unparseable address list ({failure}), read leniently" if failure
                   else f"{name}: malformed address list, read leniently")
    out = []
    for reading in address_reading.read_list(value):
        spec = reading.address
        bare = "@" not in spec and spec.lower() in address_reading.SYSTEM_MAILBOXES and name.lower() == "from"
        if not (_valid(spec) or bare):
            defects.append(f"{name}: invalid address {one_line(reading.written)[:80]!r} dropped")
            continue
        if spec != reading.written:
            defects.append(f"{name}: invalid address {one_line(reading.written)[:80]!r} read as {spec!r}")
        out.append(Address(name=one_line(decode_words(reading.name, [], name)), address=spec))
    return out


def _registry_parse(name: str, value: str) -> tuple[tuple[tuple[str, str], ...], bool, str]:
    """(display name, address) pairs, whether the list is malformed, and the exception's name when
    the stdlib parser raised."""
    try:
        header = _REGISTRY(name, value)
        parsed = tuple((a.display_name, a.addr_spec) for a in header.addresses)  # type: ignore[attr-defined]
    except Exception as exc:  # the stdlib parser has raised on odd input before; never let it stop us
        return (), False, type(exc).__name__
    return parsed, any(type(d).__name__ == "InvalidHeaderDefect" for d in header.defects), ""


def _chunks(value: str, size: int = 8192) -> list[str]:
    """Long lists parsed a few addresses at a time: split at commas outside quotes and brackets."""
    if len(value) <= size:
        return [value]
    chunks, start, depth, quoted, escaped = [], 0, 0, False, False
    for i, ch in enumerate(value):
        if escaped:
            escaped = False
        elif ch == "\\":
            escaped = True
        elif ch == '"':
            quoted = not quoted
        elif not quoted and ch in "<(":
            depth += 1
        elif not quoted and ch in ">)" and depth:
            depth -= 1
        elif ch == "," and not quoted and not depth and i - start >= 256:
            chunks.append(value[start:i])
            start = i + 1
    chunks.append(value[start:])
    return chunks


def message_ids(msg: Message, name: str) -> list[str]:
    return parse_ids(first(msg, name))


def parse_ids(value: str) -> list[str]:
    """``<id@host>`` tokens; bare ``id@host`` words are bracketed. Control characters never pass."""
    value = one_line(unescape_8bit(value, [], "Message-ID"))
    ids = re.findall(r"<([^<>\s]{1,998})>", value) or [t for t in value.replace(",", " ").split() if "@" in t]
    return [f"<{i}>" for i in (t.strip("<>") for t in ids) if _ID.match(i)][:MAX_IDS]


def date(msg: Message, defects: list[str]) -> datetime | None:
    return parse_date(first(msg, "Date"), defects)


def parse_date(value: str, defects: list[str]) -> datetime | None:
    raw = _COMMENT.sub(" ", _COMMENT.sub(" ", one_line(unescape_8bit(value, [], "Date"))))
    if not raw:
        return None
    try:
        parsed = parsedate_to_datetime(raw)
    except (TypeError, ValueError, IndexError, OverflowError):
        defects.append(f"unparseable Date: {raw[:80]!r}")
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)  # "-0000": UTC, origin unknown
