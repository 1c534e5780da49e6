"""Big bodies kept out of the stdlib parser, and read from the raw mail when asked for.

``email.message_from_bytes`` holds a body three times over (the decoded text, its lines, the joined
payload): a 50 MB attachment costs it 400 MB. Here each big leaf body that the limits scan found
is cut out of the bytes the parser reads and replaced by a one-line marker; the part the parser
makes of it (a ``MailPart``) reads the body from the raw mail when its payload is asked for: a
base64 body decoded in chunks, any other body as the bytes the stdlib would have given. What the
stdlib would have made of the body is what comes out: the decoded bytes and the same defects
(RFC 2045 section 6.8; ``email._encoded_words.decode_b``). Small bodies are held too once they add
up: a mail of thousands of 8 KB parts would cost the parser seven times its size.

The cut is only kept when the parse proves it harmless: every marker must come back as the whole
payload of a leaf, and the line after the body must be its own multipart's delimiter exactly as the
parser matches it. Only a body no line of which can be a delimiter is cut: base64 lines, or lines
none of which starts with "--". Any doubt, and the mail is parsed whole, as before.
"""

from __future__ import annotations

import binascii
import functools
import re
import secrets
from collections.abc import Callable, Iterator
from email import errors
from email.message import EmailMessage, Message
from email.parser import BytesParser

from services.parser.limits import LeafBody
from services.parser.registry import POLICY

MIN_HELD = 16 * 1024  # smaller bodies cost the parser less than the cut
# Unless there are thousands: the parser holds a body it reads about seven times over, so small bodies
# past this many bytes in all are held too, down to this size.
SMALL_BODIES = 2 * 1024 * 1024
MIN_HELD_MANY = 1024
_CHUNK = 1024 * 1024  # raw bytes decoded at a time
_BASE64_LINES = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/=\r\n"


_ABSENT = object()
# Transfer encodings the stdlib decodes (``Message.get_payload``); any other gives the bytes as they are.
_DECODED = frozenset({"quoted-printable", "base64", "x-uuencode", "uuencode", "uue", "x-uue"})


class MailPart(EmailMessage):
    """A part whose base64 body may still be in the raw mail (``held``), and whose header values
    are parsed once: ``policy.default`` parses a header again on every read, and the type of one
    part is asked for a dozen times (by the parser itself, the body structure, the attachments).
    Its raw values are indexed by name once too: the stdlib finds a header by lower-casing every
    name, and a mail's headers are looked up a dozen times (addresses, ids, classification)."""

    held: tuple[bytes, int, int] | None = None  # the raw mail, and where the body lies in it
    held_base64 = True  # else the held body is read whole, as the stdlib would have, on first use
    _read: dict[str, object] | None = None  # parsed values by lower-case name, once read
    _index: dict[str, list[str]] | None = None  # raw values by lower-case name, once read

    def forget_headers(self) -> None:
        """Drop what was read: every method that changes the headers calls this (``HEADER_WRITERS``)."""
        self._read = self._index = None

    def set_raw(self, name: str, value: str) -> None:  # the parser's way in: as cheap as can be
        super().set_raw(name, value)
        self._read = self._index = None

    def raw_values(self, name: str) -> list[str]:
        """``raw_items()``'s values for ``name``, in order."""
        index = self._index
        if index is None:
            index = self._index = {}
            for key, value in self.raw_items():
                index.setdefault(key.lower(), []).append(value)
        return index.get(name.lower(), [])

    def __contains__(self, name: str) -> bool:  # type: ignore[override]
        return bool(self.raw_values(name))

    def get(self, name, failobj=None):  # type: ignore[no-untyped-def, override]
        read = self._read
        if read is None:
            read = self._read = {}
        key = name.lower()
        try:
            value = read[key]
        except KeyError:
            value = read[key] = super().get(name, _ABSENT)
        return failobj if value is _ABSENT else value

    def get_payload(self, i=None, decode=False):  # type: ignore[no-untyped-def, override]
        if self.held is None or (not decode and self.held_base64):
            return super().get_payload(i, decode)
        if decode and not self.held_base64 and i is None and self._cte() not in _DECODED:
            # The stdlib gives the body's bytes as they are: no text made of them (four bytes a
            # character, once one is not ASCII), nothing kept.
            return self._held_bytes()
        chunks = self.decoded_chunks()
        if chunks is None:  # not strict base64, or no base64: the payload the stdlib would have read
            self.set_payload(self._held_bytes().decode("ascii", "surrogateescape"))
            self.held = None
            return super().get_payload(i, decode)
        return b"".join(chunks())

    def _cte(self) -> str:
        return str(self.get("content-transfer-encoding", "")).lower()

    def _held_bytes(self) -> bytes:
        """The body's bytes as the stdlib parser keeps them: before a delimiter, without the line
        break that belongs to the delimiter; a body the mail ends with keeps its last one."""
        raw, start, end = self.held  # type: ignore[misc]
        if end == len(raw):
            return raw[start:end]
        body = raw[start:end + 1]
        return body[:-2] if body.endswith(b"\r\n") else body[:-1] if body[-1:] in (b"\r", b"\n") else body

    def decoded_chunks(self) -> Callable[[], Iterator[bytes]] | None:
        """``get_payload(decode=True)`` for a held body, as chunks decoded when read: its defect
        is recorded now, as that call would. None when nothing is held, or when the body is not
        strict base64 (``get_payload`` then decodes it leniently, as the stdlib does)."""
        if self.held is None or not self.held_base64:
            return None
        raw, start, end = self.held
        strict = _strict(raw, start, end)
        if strict is None:
            return None
        padded, tail = strict
        if padded:
            self.policy.handle_defect(self, errors.InvalidBase64PaddingDefect())
        return functools.partial(_decoded, raw, start, tail, end)


# The public methods of ``EmailMessage`` that change its headers (each other one only reads them, or
# changes them through these): after any of them, what ``MailPart`` read is read again.
# tests/unit/parser/test_held.py checks the list against the installed Python's ``EmailMessage``.
HEADER_WRITERS = ("__setitem__", "__delitem__", "set_raw", "add_header", "replace_header", "set_boundary",
                  "clear", "clear_content", "make_related", "make_alternative", "make_mixed")


def _forgetting(name: str) -> Callable[..., object]:
    def write(self: MailPart, *args: object, **kwargs: object) -> object:
        try:
            return getattr(super(MailPart, self), name)(*args, **kwargs)
        finally:
            self.forget_headers()

    write.__name__ = write.__qualname__ = name
    return write


for _name in HEADER_WRITERS:
    if _name not in MailPart.__dict__:
        setattr(MailPart, _name, _forgetting(_name))


def parse(raw: bytes, leaves: list[LeafBody]) -> Message:
    """The parsed mail, big base64 bodies held out of the parse when that is provably harmless."""
    parser = BytesParser(_class=MailPart, policy=POLICY)
    big = _to_hold(raw, leaves)
    if not big:
        return parser.parsebytes(raw)
    nonce = secrets.token_hex(8)
    markers = {f"PostroomHeld{n}x{nonce}": leaf for n, leaf in enumerate(big)}
    pieces, pos = [], 0
    for marker, leaf in markers.items():
        pieces += [raw[pos:leaf.start], marker.encode("ascii")]
        pos = leaf.end
    pieces.append(raw[pos:])
    msg = parser.parsebytes(b"".join(pieces))
    del pieces
    if _attach(msg, raw, markers):
        return msg
    return parser.parsebytes(raw)


def _to_hold(raw: bytes, leaves: list[LeafBody]) -> list[LeafBody]:
    """The bodies to keep out of the parse: those of ``MIN_HELD`` bytes or more, and when the small
    ones add up to more than ``SMALL_BODIES`` (a mail of thousands of parts), those of
    ``MIN_HELD_MANY`` or more too. Only bodies no line of which can be a delimiter: base64 lines, or
    lines none of which starts with "--"."""
    fit = [leaf for leaf in leaves if not leaf.in_message and leaf.end - leaf.start >= MIN_HELD_MANY
           and _no_delimiter(raw, leaf)]
    small = sum(leaf.end - leaf.start for leaf in fit if leaf.end - leaf.start < MIN_HELD)
    least = MIN_HELD if small <= SMALL_BODIES else MIN_HELD_MANY
    return [leaf for leaf in fit if leaf.end - leaf.start >= least]


def _no_delimiter(raw: bytes, leaf: LeafBody) -> bool:
    if leaf.base64 and _only_base64_lines(raw, leaf.start, leaf.end):
        return True
    start, end = leaf.start, leaf.end
    return raw[start:start + 2] != b"--" and raw.find(b"\n--", start, end) < 0 and raw.find(b"\r--", start, end) < 0


def _only_base64_lines(raw: bytes, start: int, end: int, size: int = _CHUNK) -> bool:
    """``raw[start:end]`` holds base64 characters and line breaks only. Each chunk's copy with those
    characters deleted must be empty: five times faster than a regular expression, and a big body
    is never copied whole."""
    return not any(raw[at:min(at + size, end)].translate(None, _BASE64_LINES) for at in range(start, end, size))


def _attach(msg: Message, raw: bytes, markers: dict[str, LeafBody]) -> bool:
    """Point each marker's part at its body in ``raw``; False when any marker is not where it must be."""
    found = 0
    stack: list[tuple[Message, Message | None]] = [(msg, None)]
    while stack:
        part, parent = stack.pop()
        payload = part.get_payload()
        if isinstance(payload, list):
            stack.extend((p, part) for p in payload if isinstance(p, Message))
            continue
        leaf = markers.get(payload) if isinstance(payload, str) else None
        if leaf is None:
            continue
        if not isinstance(part, MailPart):
            return False
        if not _closes(raw, leaf, parent):
            return False
        # Decoded from the raw mail in chunks only when base64 to the parser too, and base64 lines;
        # any other body is read whole on first use, as the stdlib would have read it.
        base64 = str(part.get("content-transfer-encoding", "")).lower() == "base64"
        part.held = (raw, leaf.start, leaf.end)
        part.held_base64 = base64 and _only_base64_lines(raw, leaf.start, leaf.end)
        found += 1
    return found == len(markers)


def _closes(raw: bytes, leaf: LeafBody, parent: Message | None) -> bool:
    """The line after the body is the delimiter the parser itself looks for (``feedparser``'s
    ``boundaryre``): the parent's boundary, exactly, or the mail ends there for a lone body."""
    if parent is None:
        return leaf.end == len(raw)
    boundary = parent.get_boundary()
    if not boundary or leaf.end >= len(raw):
        return False
    eol = raw.find(b"\n", leaf.end + 1)
    line = raw[leaf.end + 1:eol if eol >= 0 else len(raw)].decode("ascii", "surrogateescape")
    return re.match(re.escape("--" + boundary) + r"(?:--)?[ \t]*\r?$", line) is not None


def _strict(raw: bytes, start: int, end: int) -> tuple[bool, int] | None:
    """Whether ``decode_b``'s first, strict attempt succeeds on ``raw[start:end]`` without its line
    breaks: None when it fails, else whether it added padding (a defect), and where the tail that
    decides it starts (``_decoded`` decodes that tail in one piece).

    Only the tail needs reading: the body is base64 characters (``parse`` checked), so it fails or
    pads in its last group and any "=" after it; one more group keeps a leading "=" visible.
    """
    pad = raw.find(b"=", start, end)
    stop = end if pad < 0 else pad
    before = stop - start - raw.count(b"\r", start, stop) - raw.count(b"\n", start, stop)  # characters before any "="
    length = before + end - stop - raw.count(b"\r", stop, end) - raw.count(b"\n", stop, end)
    back = before % 4 + (4 if before >= before % 4 + 4 else 0)
    tail = stop
    while back:
        tail -= 1
        if raw[tail] not in b"\r\n":
            back -= 1
    try:
        binascii.a2b_base64(raw[tail:end].translate(None, b"\r\n") + b"=" * (-length % 4), strict_mode=True)
    except binascii.Error:
        return None
    return length % 4 != 0, tail


def _decoded(raw: bytes, start: int, tail: int, end: int, size: int = _CHUNK) -> Iterator[bytes]:
    """``raw[start:end]`` without its line breaks, decoded ``size`` raw bytes at a time up to
    ``tail`` (whole groups of four, no "=" there), then the tail, padded, in one piece.

    Up to the tail the lenient decoder reads the lines where they lie, uncopied: it skips the line
    breaks, which are all it could skip there (``parse`` checked the characters), and runs at twice
    the speed of the strict one on the same bytes with the breaks taken out first. Each chunk ends
    with a whole group of four characters, so no group is split between two decodes.
    """
    at = start
    while at < tail:
        stop = min(at + size, tail)
        missing = -(stop - at - raw.count(b"\r", at, stop) - raw.count(b"\n", at, stop)) % 4
        while missing:  # on to the end of the group: there is one by the tail, which ends a group too
            if raw[stop] not in b"\r\n":
                missing -= 1
            stop += 1
        yield binascii.a2b_base64(memoryview(raw)[at:stop])
        at = stop
    last = raw[at:end].translate(None, b"\r\n")
    yield binascii.a2b_base64(last + b"=" * (-len(last) % 4), strict_mode=True)
