"""From raw bytes to the parts of a mail we publish, with ``email.policy.default`` (never the legacy
policy the parser defaults to). Pure: no store, no broker. ``limits.check_shape`` runs first, so
the stdlib parser only ever sees a mail of bounded size, depth and part count; ``held`` keeps big
base64 bodies out of it."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from datetime import datetime
from email.message import Message

from services.parser import header_block, headers, held
from services.parser.attachments import Part, attachment
from services.parser.bodies import Bodies, bodies
from services.parser.limits import Limits, check_shape
from shared.contracts.common import Address


@dataclass
class Mail:
    message: Message
    message_id: str | None
    date: datetime | None
    subject: str
    from_: Address | None
    reply_to: list[Address]
    to: list[Address]
    cc: list[Address]
    in_reply_to: str | None
    references: list[str]
    text: str
    html: str | None
    reply_source: str  # the text the reply is cut from: the plain body, or the HTML's text up to its quote
    parts: list[Part] = field(default_factory=list)
    defects: list[str] = field(default_factory=list)


def parse_bytes(raw: bytes, limits: Limits | None = None) -> Mail:
    """The normalized mail, or ``Reject`` (from ``check_shape``) when it is past a limit."""
    limits = limits or Limits()
    msg = held.parse(raw, check_shape(raw, limits))
    defects: list[str] = []
    if header_block.broken(msg):
        msg, raw = _repaired(raw, msg, limits, defects)
    if msg.is_multipart() and header_block.broken_parts(msg):
        msg = _parts_repaired(raw, msg, limits, defects)
    hint = _BodyCharset(msg)
    from_list = headers.addresses(msg, "From", defects, hint)
    if len(from_list) > 1:
        defects.append(f"From: {len(from_list)} addresses, the first is the sender")
    mid = headers.message_ids(msg, "Message-ID")
    irt = headers.message_ids(msg, "In-Reply-To")
    body: Bodies = bodies(msg, defects)
    parts: list[Part] = []
    for index, part in enumerate(body.attachments, start=1):
        parts.extend(attachment(part, index, defects, hint))
    defects.extend(_parser_defects(msg))
    return Mail(
        message=msg,
        message_id=mid[0] if mid else None,
        date=headers.date(msg, defects),
        subject=headers.unstructured(msg, "Subject", defects, hint),
        from_=from_list[0] if from_list else None,
        reply_to=headers.addresses(msg, "Reply-To", defects, hint),
        to=headers.addresses(msg, "To", defects, hint),
        cc=headers.addresses(msg, "Cc", defects, hint),
        in_reply_to=irt[0] if irt else None,
        references=headers.message_ids(msg, "References"),
        text=body.text,
        html=body.html,
        reply_source=body.reply_source,
        parts=parts,
        defects=list(dict.fromkeys(defects)),  # once each, in order
    )


class _BodyCharset:
    """The charset the first text part declares (other than ASCII and UTF-8), looked up once and
    only when a header's bytes need it (``header_charsets``)."""

    def __init__(self, msg: Message) -> None:
        self._msg, self._done = msg, False
        self._found: str | None = None

    def __call__(self) -> str | None:
        if not self._done:
            self._found, self._done = _declared_charset(self._msg), True
        return self._found


def _declared_charset(msg: Message) -> str | None:
    stack = [msg]
    while stack:
        part = stack.pop(0)
        payload = part.get_payload()
        if isinstance(payload, list):
            stack.extend(p for p in payload if isinstance(p, Message))
            continue
        try:
            label = part.get_content_charset() if part.get_content_maintype() == "text" else None
        except Exception:
            continue
        if label and label.lower() not in ("us-ascii", "ascii", "utf-8", "utf8"):
            return label
    return None


def _repaired(raw: bytes, msg: Message, limits: Limits, defects: list[str]) -> tuple[Message, bytes]:
    """The mail parsed again with its header block repaired (``header_block``), when that changes
    anything, and the bytes it was parsed from."""
    repaired = header_block.repair(raw, limits.max_header_bytes)
    if repaired is None:
        return msg, raw
    return _reparsed(raw, repaired, limits, defects), repaired[0]


def _parts_repaired(raw: bytes, msg: Message, limits: Limits, defects: list[str]) -> Message:
    """The mail parsed again with its parts' header blocks repaired, when that changes anything."""
    boundaries = []
    stack = [msg]
    while stack:
        part = stack.pop()
        payload = part.get_payload() if part.is_multipart() else None
        if isinstance(payload, list):
            boundary = part.get_boundary()
            if boundary:
                boundaries.append(boundary)
            stack.extend(p for p in payload if isinstance(p, Message))
    repaired = header_block.repair_parts(raw, boundaries, limits.max_header_bytes)
    return msg if repaired is None else _reparsed(raw, repaired, limits, defects)


def _reparsed(raw: bytes, repaired: tuple[bytes, list[str]], limits: Limits, defects: list[str]) -> Message:
    """The repaired bytes parsed; they pass the same shape scan, allowed the bytes the repair added."""
    data, notes = repaired
    grown = dataclasses.replace(limits, max_message_bytes=limits.max_message_bytes + max(0, len(data) - len(raw)))
    defects.extend(notes)
    return held.parse(data, check_shape(data, grown))


def _parser_defects(msg: Message) -> list[str]:
    """What the stdlib parser noticed (a missing boundary, bad base64 padding...), per part."""
    found: list[str] = []
    stack: list[tuple[Message, str]] = [(msg, "message")]
    while stack:  # iterative: ``walk()`` recurses
        part, where = stack.pop()
        found.extend(f"{where}: {type(d).__name__}" for d in getattr(part, "defects", []))
        payload = part.get_payload() if part.is_multipart() else None
        if isinstance(payload, list):
            stack.extend((p, f"{where}.{i}") for i, p in enumerate(payload, start=1) if isinstance(p, Message))
    return found[:200]
