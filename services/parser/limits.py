"""Bounded work: a linear scan of the raw bytes before the stdlib parser sees them.

Measured on CPython 3.11 with ``email.policy.default``: 100,000 tiny parts take 80 s to parse
(the feed parser is quadratic in the number of parts), about 1,000 nested multiparts raise
``RecursionError``, and a 1 MB address header takes 100 s to read (the header value parser is
quadratic). So the shape of the mail is measured here, in one pass, and a mail past a limit is
rejected with the reason before any of that can happen.

The scan must see the structure the parser will build, or a mail can be shaped to pass the count
and still cost the parser a million parts. So it follows ``email.feedparser`` step by step:
- lines end at CRLF, CR or LF (the parser's ``StringIO(newline='')``), not only at LF;
- a header block ends at the first line that is no header field (``headerRE``), not only at an
  empty line, and a delimiter ends it too (the parser checks its end-of-part predicates first);
- a part's type and boundary are the stdlib's own answer (``get_content_type``, ``get_boundary``)
  on the first Content-Type field, the one ``Message.get`` returns: so ``x-boundary=`` is no
  boundary, RFC 2231 ``boundary*0=``/``boundary*1=`` and ``boundary*=charset'lang'value`` are;
- a delimiter ends the outermost level whose boundary it matches, exactly (case and all), and
  the delimiter lines of its level right after it are taken with it;
- every ``message/*`` type opens a nested message, a part of ``multipart/digest`` without a type
  is ``message/rfc822``, and a ``message/delivery-status`` is one message per block: an empty line
  ends a block at any depth inside it (a block is a part like any other until then).

The scan reads header lines one by one but jumps from one ``--`` line to the next through bodies,
so it never holds the mail's lines at once (a 50 MB attachment is 680,000 of them). On the way it
notes where each leaf part's body lies: ``held`` keeps the big ones out of the stdlib parser.
"""

from __future__ import annotations

import re
import dataclasses
from dataclasses import dataclass
from email.message import EmailMessage

from services.parser.registry import POLICY
from shared.errors import Reject


@dataclass(frozen=True)
class Limits:
    max_message_bytes: int = 51 * 1024 * 1024
    max_header_bytes: int = 256 * 1024
    max_header_field_bytes: int = 64 * 1024
    max_depth: int = 40
    max_parts: int = 2000
    max_text_chars: int = 1_000_000
    max_seconds: float = 30.0  # one mail's parse, wall clock (``deadline``)


@dataclass
class LeafBody:
    """The body of a part that is neither multipart nor message: ``raw[start:end]``."""

    start: int
    end: int  # the end of the mail, or the line break before the delimiter that closes the body
    base64: bool  # declared Content-Transfer-Encoding: base64
    in_message: bool  # inside an attached message/rfc822


@dataclass(frozen=True)
class _Level:
    """One open level of nesting: a multipart (its boundary), a nested message, or the header
    blocks of a delivery status."""

    kind: str  # "multipart", "message" or "status"
    boundary: bytes | None = None  # what follows "--" on a delimiter line, as the parser compares it
    digest: bool = False  # multipart/digest: a part without a type is message/rfc822


_HEADER = re.compile(rb"From |[\x21-\x39\x3b-\x7e]*:|[\t ]")  # email.feedparser.headerRE
_CTE = re.compile(rb"^content-transfer-encoding[ \t]*:[ \t]*base64[ \t]*$", re.I)
_NEVER = b"\n"  # a boundary no line can match (a line holds no line break)


@dataclass
class _Scan:
    limits: Limits
    depth: int = 0
    parts: int = 1
    header_bytes: int = 0
    field: bytes = b""
    ctype: bytes | None = None  # the value of the block's first Content-Type field
    base64: bool = False
    stack: list[_Level] = dataclasses.field(default_factory=list)

    def end_field(self) -> None:
        if len(self.field) > self.limits.max_header_field_bytes:
            shown = self.field.split(b":", 1)[0][:40].decode("ascii", "replace")
            raise Reject(f"header field {shown!r} of {len(self.field)} bytes exceeds the limit of "
                         f"{self.limits.max_header_field_bytes}")
        name, colon, value = self.field.partition(b":")
        if colon and self.ctype is None and name.lower() == b"content-type":
            self.ctype = value.lstrip(b" \t")  # EmailPolicy.header_source_parse
        elif _CTE.match(self.field):
            self.base64 = True
        self.field = b""

    def add_line(self, line: bytes) -> None:
        """A line of a header block: a new field, or the continuation of the one before."""
        self.header_bytes += len(line) + 2
        if line[:1] in (b" ", b"\t") and self.field:
            self.field += line
        else:
            self.end_field()
            self.field = line
        if len(self.field) > self.limits.max_header_field_bytes:
            self.end_field()  # raises, naming the field
        if self.header_bytes > self.limits.max_header_bytes:
            raise Reject(f"header block of more than {self.limits.max_header_bytes} bytes")

    def count_part(self) -> None:
        self.parts += 1
        if self.parts > self.limits.max_parts:
            raise Reject(f"more than {self.limits.max_parts} MIME parts")

    def push(self, level: _Level) -> None:
        self.stack.append(level)
        if len(self.stack) > self.limits.max_depth:
            raise Reject(f"MIME nesting deeper than {self.limits.max_depth} levels")


def check_shape(raw: bytes, limits: Limits) -> list[LeafBody]:
    """Raise ``Reject`` when ``raw`` is past a limit: size, header size, MIME depth or part count.

    Returns where the leaf parts' bodies lie, as far as the scan can tell (``held`` verifies).
    """
    if len(raw) > limits.max_message_bytes:
        raise Reject(f"message of {len(raw)} bytes exceeds the limit of {limits.max_message_bytes}")
    scan = _Scan(limits)
    stack = scan.stack
    leaves: list[LeafBody] = []
    leaf: LeafBody | None = None  # the body being read, until a delimiter closes it
    in_headers, pos, size = True, 0, len(raw)
    ends = _LineEnds(raw)
    while pos <= size:
        if in_headers:
            start = pos
            line, pos = _line(raw, pos)
            delimiter = _delimiter(line, scan) if line[:2] == b"--" or not line else None
            if delimiter is not None:  # the part ends here, its headers with it: no body
                scan.end_field()
                _open_body(scan, pos)
                in_headers, pos = _close_levels(scan, *delimiter, raw, pos)
                continue
            if line and _HEADER.match(line):
                scan.add_line(line)
                continue
            scan.end_field()
            if line:  # no header field: it is the body's first line (the parser reads it again)
                pos = start
            in_headers, leaf_opens = _open_body(scan, pos)
            if leaf_opens:
                leaf = LeafBody(min(pos, size), size, scan.base64,
                                any(level.kind != "multipart" for level in stack))
                leaves.append(leaf)
            scan.base64 = False
            continue
        # Only a line that starts with "--", or an empty one in a delivery status, can end a body.
        dashes = any(level.boundary is not None for level in stack)
        empty = any(level.kind == "status" for level in stack)
        at = min((a for a in (ends.dashes(pos) if dashes else -1, ends.empty(pos) if empty else -1) if a >= 0),
                 default=-1)
        if at < 0:
            if leaf is not None:
                leaves.remove(leaf)  # never closed: the parser reads it its own way
            break
        line, pos = _line(raw, at)
        delimiter = _delimiter(line, scan)
        if delimiter is not None:
            if leaf is not None:
                leaf.end, leaf = at - 1, None
            in_headers, pos = _close_levels(scan, *delimiter, raw, pos)
    return leaves


def _line(raw: bytes, pos: int) -> tuple[bytes, int]:
    """The line at ``pos`` without its end (CRLF, CR or LF), and where the next one starts. A last
    line without an end is followed by an empty one at the end of the mail: the end of the mail
    ends a header block as an empty line does."""
    size = len(raw)
    eol = raw.find(b"\n", pos)
    cr = raw.find(b"\r", pos, size if eol < 0 else eol)
    if cr >= 0:
        return raw[pos:cr], cr + 2 if cr + 1 == eol else cr + 1
    if eol < 0:
        return raw[pos:], size if pos < size else size + 1
    return raw[pos:eol], eol + 1


_EMPTY_AFTER = re.compile(rb"(?:\r\n|\r(?!\n)|\n)(?=[\r\n])")  # a line end, an empty line after it


class _LineEnds:
    """Where the next line that starts with "--", or the next empty line, begins, from a line
    start on. Each place found is kept until passed, so the mail is searched once for each."""

    def __init__(self, raw: bytes) -> None:
        self.raw, self.lf, self.cr, self.blank = raw, -2, -2, -2

    def dashes(self, pos: int) -> int:
        if pos + 1 < len(self.raw) and self.raw[pos:pos + 2] == b"--":
            return pos
        if -1 < self.lf < pos or self.lf == -2:  # "\n--" (of an LF or a CRLF) and "\r--" (a CR)
            self.lf = self.raw.find(b"\n--", pos)
        if -1 < self.cr < pos or self.cr == -2:
            self.cr = self.raw.find(b"\r--", pos)
        found = [at + 1 for at in (self.lf, self.cr) if at >= 0]
        return min(found) if found else -1

    def empty(self, pos: int) -> int:
        if self.raw[pos:pos + 1] in (b"\r", b"\n"):
            return pos
        if -1 < self.blank < pos or self.blank == -2:
            found = _EMPTY_AFTER.search(self.raw, pos)
            self.blank = found.end() if found else -1
        return self.blank


def _open_body(scan: _Scan, pos: int) -> tuple[bool, bool]:
    """The end of a header block: push what its type opens. Returns whether headers follow (a
    nested message's) and whether the body is a leaf."""
    stack = scan.stack
    default = "message/rfc822" if stack and stack[-1].digest else "text/plain"
    ctype, boundary = part_type(scan.ctype, default)
    scan.ctype, scan.header_bytes = None, 0
    if ctype == "message/delivery-status":
        scan.push(_Level("status"))
        scan.count_part()  # its first block; each empty line ends one and starts another
        return True, False
    maintype = ctype.partition("/")[0]
    if maintype == "message":
        scan.push(_Level("message"))
        scan.count_part()
        return True, False
    if maintype == "multipart":
        if boundary is not None:  # without one the parser reads the rest as one body
            scan.push(_Level("multipart", _as_bytes(boundary), ctype == "multipart/digest"))
        return False, False
    return False, True


def part_type(value: bytes | None, default: str = "text/plain") -> tuple[str, str | None]:
    """The part's type and boundary as the stdlib parser reads them from the first Content-Type
    field's ``value`` (None: no such field), with ``email.policy.default``."""
    part = EmailMessage(policy=POLICY)
    part.set_default_type(default)
    if value is not None:
        part.set_raw("Content-Type", value.decode("ascii", "surrogateescape"))
    ctype = part.get_content_type()
    return ctype, part.get_boundary() if part.get_content_maintype() == "multipart" else None


def _as_bytes(boundary: str) -> bytes:
    """The boundary as it appears in the raw lines: the parser reads bytes as ASCII with
    surrogate escapes, so a boundary with other characters (RFC 2231 ``utf-8''%C3%A9``, or the
    replacement character the policy puts for raw 8-bit) matches no line."""
    try:
        return boundary.encode("ascii", "surrogateescape")
    except UnicodeEncodeError:
        return _NEVER


def _delimiter(line: bytes, scan: _Scan) -> tuple[int, bool] | None:
    """None when ``line`` is no delimiter, else the index of the level it belongs to and whether
    it closes that level. The parser tests a line against the outer levels' boundaries before its
    own (``BufferedSubFile.readline``), so the outermost match wins; the match is
    ``--boundary``, optionally ``--``, then spaces and tabs only (``boundaryre``). In a delivery
    status an empty line ends the block, at any depth inside it (``NLCRE`` is its end of part)."""
    if not line:
        return next(((index, False) for index, level in enumerate(scan.stack) if level.kind == "status"), None)
    if line[:2] != b"--":
        return None
    token = line[2:].rstrip(b" \t")
    for index, level in enumerate(scan.stack):
        if level.boundary is None:
            continue
        if token == level.boundary:
            return index, False
        if token == level.boundary + b"--":
            return index, True
    return None


def _close_levels(scan: _Scan, index: int, closing: bool, raw: bytes, pos: int) -> tuple[bool, int]:
    """Everything inside the delimiter's level ends. Returns whether a part's headers follow, and
    where: the parser takes the delimiter lines right after one of its level, closing ones too,
    for one (``feedparser``: "consume any multiple boundary lines")."""
    del scan.stack[index + 1:]
    if closing:
        scan.stack.pop()
        return False, pos
    scan.count_part()
    if scan.stack[index].kind == "status":
        return True, pos  # the next block's headers
    while pos <= len(raw):
        line, after = _line(raw, pos)
        again = _delimiter(line, scan)
        if again is None or again[0] != index:  # an outer level's delimiter ends the part at once
            break
        pos = after
    return True, pos
