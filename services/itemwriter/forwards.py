"""Who wrote a mail an agent forwarded: the first quoted ``From:`` line under a forward marker. Pure."""

from __future__ import annotations

import re
from email.utils import parseaddr

from shared.contracts import Address

_FORWARD_SUBJECT = re.compile(r"^\s*(fwd?|fw|wg|tr|rv|i)\s*:", re.I)
_MARKERS = ("forwarded message", "original message", "weitergeleitete nachricht", "message transféré",
            "ursprüngliche nachricht")
_FROM_LINE = re.compile(r"^\s*>?\s*(from|von|de)\s*:\s*(.+)$", re.I | re.M)


def original_sender(subject: str, body: str) -> Address | None:
    """The original author of a forwarded mail, or None when it is not one or names nobody."""
    lower = body.lower()
    marker = min((i for i in (lower.find(m) for m in _MARKERS) if i >= 0), default=-1)
    if marker < 0 and not _FORWARD_SUBJECT.match(subject or ""):
        return None
    match = _FROM_LINE.search(body, marker if marker >= 0 else 0)
    if match is None:
        return None
    name, address = parseaddr(match.group(2).strip())
    if "@" not in address:
        return None
    return Address(name=name, address=address.strip())
