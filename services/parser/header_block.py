"""A top-level header block with lines that are no header field, read as mail clients read it.

The stdlib parser ends the header block at the first line that is neither a field (``Name:``) nor
folded (leading white space): the fields after it, From and Subject among them, become body text.
Two shapes are common: a field continued on lines without leading white space (a client that
breaks long lines without folding them), and a junk line before the first field (a pasted
``---- Original message ----``). Both are repaired here before the parse, for the block up to the
first empty line: a junk line before the first field is skipped, and a line between two fields
is a continuation of the field above. Lines after the last field stay where the stdlib puts them
(the start of a body that has no empty line before it): nothing says they belong to the header.
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


def repair(raw: bytes, max_header_bytes: int) -> tuple[bytes, list[str]] | None:
    """``raw`` with its header block repaired and what was done, or None when there is nothing a
    repair would change (no empty line ends the block within ``max_header_bytes``, no field in it,
    or the only odd lines come after the last field)."""
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
