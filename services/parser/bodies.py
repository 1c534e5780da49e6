"""The body a person reads: text/plain preferred, the HTML's text when there is no plain part (or
it is empty, or a stub that sends the reader to the HTML), the HTML sanitized beside it.
Alternatives are chosen, related and mixed parts are joined in order; what is not body is an
attachment."""

from __future__ import annotations

import html as htmllib
from dataclasses import dataclass
from email.message import Message

from services.parser import charsets, stubs, transfer
from services.parser import html as mailhtml
from services.parser.structure import body_structure, body_type


@dataclass
class Bodies:
    text: str
    html: str | None
    reply_source: str
    attachments: list[Message]


def decoded(part: Message, defects: list[str], where: str = "body") -> str:
    try:
        data = transfer.decoded_bytes(part, defects, where)
    except Exception as exc:
        defects.append(f"{where}: undecodable transfer encoding ({type(exc).__name__}), read as is")
        data = str(part.get_payload()).encode("utf-8", errors="surrogateescape")
    try:
        label = part.get_content_charset()
    except Exception:
        label = None
    return charsets.decode(data, label, defects, where)


def _is_html(part: Message) -> bool:
    return body_type(part) == "text/html"


def _is_text(part: Message) -> bool:
    return body_type(part).startswith("text/") and not _is_html(part)


def bodies(msg: Message, defects: list[str]) -> Bodies:
    found = body_structure(msg)
    text_parts = [p for p in found.text or [] if _is_text(p) or _is_html(p)]
    html_parts = [p for p in found.html or [] if _is_text(p) or _is_html(p)]
    cache: dict[int, str] = {}
    # An HTML-only mail's HTML gives both its text and its reply: read once for both.
    readings: dict[str, tuple[str, str]] = {}

    def content(part: Message) -> str:
        if id(part) not in cache:
            cache[id(part)] = decoded(part, defects).replace("\r\n", "\n").replace("\r", "\n")
        return cache[id(part)]

    def html_text(html: str, cut_at_quote: bool = False) -> str:
        if html not in readings:
            readings[html] = mailhtml.texts(html)
        return readings[html][1 if cut_at_quote else 0]

    text = "\n\n".join(content(p) if _is_text(p) else html_text(content(p)) for p in text_parts)
    has_html = any(_is_html(p) for p in html_parts)
    html_source = "".join(content(p) if _is_html(p) else f"<pre>{htmllib.escape(content(p))}</pre>"
                          for p in html_parts) if has_html else None
    reply_source = text
    if not text.strip() and html_source is not None:
        text = html_text(html_source)  # an empty plain part beside a real HTML one (RFC 8621 allows it)
    if html_source is not None and not any(_is_text(p) for p in text_parts):
        reply_source = html_text(html_source, cut_at_quote=True)
    elif (has_html and text_parts and all(_is_text(p) for p in text_parts) and stubs.is_stub(text)
          and _differs(html_text(html_source or ""), text)):
        defects.append("body: the text/plain alternative is a stub, the text is the HTML's")
        text = html_text(html_source or "")
        reply_source = html_text(html_source or "", cut_at_quote=True)
    elif not reply_source.strip():
        reply_source = text
    attachments = list(found.attachments)
    known = {id(p) for p in attachments}
    for part in [*(found.text or []), *(found.html or [])]:  # inline images shown between text parts
        if id(part) not in known and not (_is_text(part) or _is_html(part)):
            attachments.append(part)
            known.add(id(part))
    attachments.sort(key=_document_order(msg))
    return Bodies(text=text.strip("\n"), html=mailhtml.sanitize(html_source) if html_source else None,
                  reply_source=reply_source, attachments=attachments)


def _differs(html_text: str, text: str) -> bool:
    """The HTML's text says something the plain text does not (it is not empty, nor the same words)."""
    return bool(html_text.strip()) and html_text.split() != text.split()


def _document_order(msg: Message):  # type: ignore[no-untyped-def]
    """Attachments are listed in the order the mail has them."""
    order: dict[int, int] = {}
    stack = [msg]
    while stack:  # depth first, iteratively
        part = stack.pop()
        order[id(part)] = len(order)
        payload = part.get_payload() if part.is_multipart() else None
        if isinstance(payload, list):
            stack.extend(reversed([p for p in payload if isinstance(p, Message)]))
    return lambda part: order.get(id(part), len(order))
