"""From raw bytes to the parts of a mail we need, with ``email.policy.default`` (never the legacy
policy the parser defaults to). Pure: no store, no broker."""

from __future__ import annotations

import email
import hashlib
from dataclasses import dataclass, field
from datetime import datetime
from email import policy
from email.message import EmailMessage, Message
from email.utils import getaddresses, parsedate_to_datetime

from shared.contracts.common import Address


@dataclass
class Part:
    filename: str
    content_type: str
    data: bytes
    inline: bool
    content_id: str | None

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.data).hexdigest()


@dataclass
class Mail:
    message: EmailMessage
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
    parts: list[Part] = field(default_factory=list)
    defects: list[str] = field(default_factory=list)


def _header(msg: Message, name: str, defects: list[str]) -> str:
    try:
        value = msg.get(name)
    except Exception as exc:  # a header the policy cannot parse: keep going, record it
        defects.append(f"header {name}: {type(exc).__name__}: {exc}")
        raw = msg.get_all(name, failobj=[])
        return str(raw[0]) if raw else ""
    return "" if value is None else str(value)


def _one_line(text: str) -> str:
    """Headers never carry CR/LF into anything we build from them (subjects copied into replies)."""
    return " ".join(text.split())


def _addresses(msg: Message, name: str, defects: list[str]) -> list[Address]:
    values = msg.get_all(name, failobj=[])
    try:
        pairs = getaddresses([str(v) for v in values])
    except Exception as exc:
        defects.append(f"header {name}: {type(exc).__name__}")
        return []
    return [Address(name=_one_line(n), address=a.strip()) for n, a in pairs if a and "@" in a]


def _msgids(value: str) -> list[str]:
    return [tok if tok.startswith("<") else f"<{tok}>" for tok in
            (t.strip() for t in value.replace(">", "> ").split()) if "@" in tok]


def _date(msg: Message, defects: list[str]) -> datetime | None:
    raw = _header(msg, "Date", defects)
    if not raw:
        return None
    try:
        return parsedate_to_datetime(raw)
    except (TypeError, ValueError, IndexError):
        defects.append(f"unparseable Date: {raw[:80]!r}")
        return None


def _decoded_text(part: Message, defects: list[str]) -> str:
    try:
        return part.get_content()  # type: ignore[attr-defined]
    except (LookupError, UnicodeError, AssertionError, KeyError) as exc:
        payload = part.get_payload(decode=True) or b""
        defects.append(f"text part charset {part.get_content_charset()!r}: {type(exc).__name__}; "
                       "decoded as UTF-8 with replacement")
        return payload.decode("utf-8", errors="replace")


def parse_bytes(raw: bytes) -> Mail:
    msg = email.message_from_bytes(raw, policy=policy.default)
    assert isinstance(msg, EmailMessage)
    defects = [f"{type(d).__name__}" for d in msg.defects]
    from_list = _addresses(msg, "From", defects)
    mid = _msgids(_header(msg, "Message-ID", defects))
    irt = _msgids(_header(msg, "In-Reply-To", defects))
    text, html, parts = _body_and_parts(msg, defects)
    return Mail(
        message=msg,
        message_id=mid[0] if mid else None,
        date=_date(msg, defects),
        subject=_one_line(_header(msg, "Subject", defects)),
        from_=from_list[0] if from_list else None,
        reply_to=_addresses(msg, "Reply-To", defects),
        to=_addresses(msg, "To", defects),
        cc=_addresses(msg, "Cc", defects),
        in_reply_to=irt[0] if irt else None,
        references=_msgids(_header(msg, "References", defects)),
        text=text,
        html=html,
        parts=parts,
        defects=defects,
    )


def _body_and_parts(msg: EmailMessage, defects: list[str]) -> tuple[str, str | None, list[Part]]:
    body = msg.get_body(preferencelist=("plain", "html"))
    text, html = "", None
    if body is not None:
        content = _decoded_text(body, defects)
        if body.get_content_subtype() == "html":
            html = content
            text = html_to_text(content)
        else:
            text = content
    parts: list[Part] = []
    for part in msg.walk():
        if part is body or part.is_multipart():
            continue
        disposition = part.get_content_disposition()
        filename = part.get_filename()
        if disposition is None and filename is None and part.get_content_maintype() == "text":
            continue  # an alternative body, not an attachment
        data = part.get_payload(decode=True) or b""
        cid = part.get("Content-ID")
        parts.append(Part(filename=filename or "attachment", content_type=part.get_content_type(),
                          data=data, inline=disposition == "inline", content_id=str(cid) if cid else None))
    return text, html, parts


def html_to_text(html: str) -> str:
    from html.parser import HTMLParser

    class _Text(HTMLParser):
        def __init__(self) -> None:
            super().__init__()
            self.out: list[str] = []
            self.skip = 0

        def handle_starttag(self, tag: str, attrs: object) -> None:
            if tag in {"script", "style", "head"}:
                self.skip += 1
            elif tag in {"br", "p", "div", "tr", "li", "h1", "h2", "h3"}:
                self.out.append("\n")

        def handle_endtag(self, tag: str) -> None:
            if tag in {"script", "style", "head"} and self.skip:
                self.skip -= 1

        def handle_data(self, data: str) -> None:
            if not self.skip:
                self.out.append(data)

    p = _Text()
    p.feed(html)
    lines = [" ".join(line.split()) for line in "".join(p.out).splitlines()]
    return "\n".join(lines).strip()
