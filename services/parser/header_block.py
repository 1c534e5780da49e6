"""A top-level header block with lines that are no header field, read as mail clients read it.

The stdlib parser ends the header block at the first line that is neither a field (``Name:``) nor
folded (leading white space): the fields after it, From and Subject among them, become body text.
Two shapes are common: a field continued on lines without leading white space (a client that
breaks long lines without folding them), and a junk line before the first field (a pasted
``---- Original message ----``). Both are repaired here before the parse, for the block up to the
first empty line: a junk line before the first field is skipped, and a line between two fields
is a continuation of the field above. Lines after the last field stay where the stdlib puts them
(the start of a body that has no empty line before it): nothing says they belong to the header.

A MIME part's header block breaks the same ways, and the stdlib then reads the part as text/plain
with no name, its Content-Type and Content-Disposition in the body (an attachment pasted into the
text). ``repair_parts`` repairs each part's block in the raw mail the same way, but only a block
where the break cost a ``Content-`` field: a part's text that merely looks like a field stays text.
"""

from __future__ import annotations

import re
from email.errors import MissingHeaderBodySeparatorDefect
from email.message import Message

_FIELD = re.compile(rb"^[\x21-\x39\x3b-\x7e]+:")
_FOLDED = (b" ", b"\t")


def broken(msg: Message) -> bool:
    """The stdlib parser ended the message's header block at a line that is no field."""
    return any(isinstance(d, MissingHeaderBodySeparatorDefect) for d in msg.defects)


def broken_parts(msg: Message) -> bool:
    """A part below the top level whose header block the stdlib parser ended at a line that is no field."""
    stack = [msg]
    while stack:  # iterative: ``walk()`` recurses; a leaf's payload is never read (``held``)
        top = stack.pop()
        payload = top.get_payload() if top.is_multipart() else None
        if isinstance(payload, list):
            for part in payload:
                if isinstance(part, Message):
                    if broken(part):
                        return True
                    stack.append(part)
    return False


def repair_parts(raw: bytes, boundaries: list[str], max_header_bytes: int) -> tuple[bytes, list[str]] | None:
    """``raw`` with the header block of each part after a delimiter of ``boundaries`` repaired as
    ``repair`` does, where that brings back a ``Content-`` field; None when no block is repaired."""
    names = b"|".join(re.escape(b.encode("utf-8", "surrogateescape")) for b in dict.fromkeys(boundaries) if b)
    if not names:
        return None
    delimiters = list(re.finditer(rb"^--(?:" + names + rb")(--)?[ \t]*\r?(?:\n|$)", raw, re.MULTILINE))
    out, notes, pos = [], [], 0
    for here, after in zip(delimiters, delimiters[1:], strict=False):
        if here.group(1):  # a closing delimiter: what follows is an epilogue, not a part
            continue
        start, end = here.end(), after.start()
        repaired = repair(raw[start:end], max_header_bytes, lost=b"content-")
        if repaired is None:
            continue
        out += [raw[pos:start], repaired[0]]
        notes += [f"part header block: {note.removeprefix('header block: ')}" for note in repaired[1]]
        pos = end
    if not notes:
        return None
    return b"".join([*out, raw[pos:]]), notes


def repair(raw: bytes, max_header_bytes: int, lost: bytes | None = None) -> tuple[bytes, list[str]] | None:
    """``raw`` with its header block repaired and what was done, or None when there is nothing a
    repair would change (no empty line ends the block within ``max_header_bytes``, no field in it,
    or the only odd lines come after the last field). With ``lost`` (a lower-case field-name
    prefix), None too unless a field so named comes after the first line the repair changes."""
    lines = raw[:max_header_bytes].splitlines(keepends=True)
    end = next((i for i, line in enumerate(lines) if not line.strip(b"\r\n")), None)
    if end is None:
        return None
    kinds = [_kind(line, i) for i, line in enumerate(lines[:end])]
    fields = [i for i, kind in enumerate(kinds) if kind == "field"]
    if not fields:
        return None
    skipped = {i for i in range(fields[0]) if kinds[i] == "other"}
    joined = {i for i in range(fields[0], fields[-1]) if kinds[i] == "other"}
    if not skipped and not joined:
        return None
    if lost is not None:
        first = min(skipped | joined)
        if not any(lines[i][:len(lost)].lower() == lost for i in fields if i > first):
            return None
    out = []
    for i, line in enumerate(lines[:end]):
        if i in skipped:
            continue
        out.append(b" " + line if i in joined else line)
    notes = []
    if skipped:
        notes.append(f"header block: {len(skipped)} line(s) before the first field skipped")
    if joined:
        notes.append(f"header block: {len(joined)} line(s) without a field name read as continuations")
    consumed = sum(len(line) for line in lines[:end])
    return b"".join(out) + raw[consumed:], notes


def _kind(line: bytes, index: int) -> str:
    if _FIELD.match(line) or (index == 0 and line.startswith(b"From ")):
        return "field"
    if line.startswith(_FOLDED):
        return "folded"
    return "other"
