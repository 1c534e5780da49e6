"""The per-recipient fields of a delivery status notification (RFC 3464): for each address the
report names, what the reporting server did (``Action``) and why (``Status``, RFC 3463). What they
mean for the address is the itemwriter's decision; here they are only read, and what cannot be
read is a defect.

The stdlib parses a ``message/delivery-status`` body into one header block per recipient (the
first block is the per-message one, without a ``Final-Recipient``); ``message/global-delivery-status``
(RFC 6533), which it does not know, is split here the same way."""

from __future__ import annotations

import base64
import binascii
import email
import quopri
import re
from email.message import Message

from services.parser.headers import first, one_line
from shared.contracts.mail import DeliveryReport

REPORT_TYPES = ("message/delivery-status", "message/global-delivery-status")
RETURNED_TYPES = ("message/rfc822", "message/global", "text/rfc822-headers", "message/global-headers")
MAX_REPORTS = 100  # recipients per mail: a report of more is cut, and says so
_STATUS = re.compile(r"^\s*([245]\.\d{1,3}\.\d{1,3})(?!\d)")
_ADDRESS = re.compile(r"^[^\s@<>]{1,256}@[^\s@<>]{1,255}$")


def delivery_reports(msg: Message, defects: list[str]) -> list[DeliveryReport]:
    """Every recipient block of the mail's delivery status parts, in order. The returned mail is
    not searched: a report in it is about some earlier mail, not ours."""
    reports: list[DeliveryReport] = []
    stack = [msg]
    while stack:
        part = stack.pop(0)
        try:
            ctype = part.get_content_type()
        except Exception:
            continue
        if ctype in RETURNED_TYPES:
            continue
        if ctype in REPORT_TYPES:
            for block in _blocks(part, defects):
                report = _report(block, defects)
                if report is not None:
                    reports.append(report)
            continue
        payload = part.get_payload() if part.is_multipart() else None
        if isinstance(payload, list):
            stack.extend(p for p in payload if isinstance(p, Message))
    if len(reports) > MAX_REPORTS:
        defects.append(f"delivery report: {len(reports)} recipients, the first {MAX_REPORTS} kept")
    return reports[:MAX_REPORTS]


def _blocks(part: Message, defects: list[str]) -> list[Message]:
    payload = part.get_payload()
    if part.get_content_type() == "message/delivery-status" and isinstance(payload, list):
        return [p for p in payload if isinstance(p, Message)]
    try:
        text = _global_text(part, payload)
    except (UnicodeError, ValueError, binascii.Error) as exc:
        defects.append(f"delivery report: unreadable ({type(exc).__name__}), its recipients not read")
        return []
    return [email.message_from_string(block.strip("\n") + "\n") for block in re.split(r"\n[ \t]*\n", text)
            if block.strip()]


def _global_text(part: Message, payload: object) -> str:
    """The text of a ``message/global-delivery-status`` body. The stdlib takes it for an enclosed
    mail: its first block became that mail's headers, the rest its body, with 8-bit bytes kept as
    surrogates, and a transfer encoding (allowed on it, RFC 6533 section 6) not undone."""
    if isinstance(payload, list) and payload and isinstance(payload[0], Message):
        inner = payload[0]
        body = inner.get_payload(decode=True)  # the enclosed "mail" has no encoding: its raw bytes
        data = ("".join(f"{k}: {v}\n" for k, v in inner.raw_items()).encode("utf-8", "surrogateescape") + b"\n"
                + (body if isinstance(body, bytes) else b""))
        encoding = str(part.get("Content-Transfer-Encoding", "")).strip().lower()
        if encoding == "base64":
            data = base64.b64decode(b"".join(data.split()), validate=True)
        elif encoding == "quoted-printable":
            data = quopri.decodestring(data)
    else:
        raw = part.get_payload(decode=True)
        data = raw if isinstance(raw, bytes) else b""
    return data.decode("utf-8").replace("\r\n", "\n")  # RFC 6533: the global report is UTF-8


def _report(block: Message, defects: list[str]) -> DeliveryReport | None:
    final = _field(block, "Final-Recipient")
    if not final:
        return None  # the per-message block, or text that is no report
    address = _address(final)
    if address is None:
        defects.append(f"delivery report: unreadable Final-Recipient {final[:80]!r}, ignored")
        return None
    status = _STATUS.match(_field(block, "Status"))
    original = _address(_field(block, "Original-Recipient"))
    return DeliveryReport(final_recipient=address, action=_field(block, "Action").lower().split(" ")[0][:20],
                          status=status.group(1) if status else "", original_recipient=original,
                          diagnostic=_field(block, "Diagnostic-Code")[:200])


def _field(block: Message, name: str) -> str:
    try:
        return one_line(first(block, name))
    except Exception:  # a header the stdlib cannot even hold as text: as good as absent
        return ""


def _address(value: str) -> str | None:
    """``rfc822; <ann@example.com>`` -> ``ann@example.com`` (RFC 3464 section 2.3.2: address-type ";"
    generic-address); the type is optional in practice."""
    address = value.partition(";")[2] if ";" in value else value
    address = address.strip().strip("<>").strip()
    return address if _ADDRESS.match(address) else None
