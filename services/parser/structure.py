"""Which parts are the body and which are attachments: RFC 8621 (JMAP) section 4.1.4, the
algorithm mail clients converge on and stalwart's mail-parser implements.

A message/rfc822 part is a leaf here: it is published as an attached ``.eml`` and its own text is
never mixed into the body. Recursion is bounded by ``limits.check_shape`` (the MIME depth).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from email.message import Message


@dataclass
class Structure:
    text: list[Message] | None = field(default_factory=list)
    html: list[Message] | None = field(default_factory=list)
    attachments: list[Message] = field(default_factory=list)


_COMMENT = re.compile(r"\([^()]*\)")
_LEADING = re.compile(r"\s*([a-z0-9!#$&^_.+-]+/[a-z0-9!#$&^_.+-]+)(?=[\s;]|$)", re.IGNORECASE)
_TOKEN = re.compile(r"^[a-z0-9!#$&^_.+-]+/[a-z0-9!#$&^_.+-]+$")


def content_type(part: Message) -> str:
    """``type/subtype``, lower-case; comments and stray spaces (``image/ jpeg``) forgiven, a valid
    type before broken parameters kept, and ``text/plain`` for what is no type at all (RFC 2045
    section 5.2)."""
    try:
        ctype = part.get_content_type()
    except Exception:
        return "application/octet-stream"
    if _TOKEN.match(ctype):
        return ctype
    leading = _LEADING.match(ctype)  # a valid type, then parameters without their semicolons
    if leading:
        return leading.group(1)
    ctype = re.sub(r"\s+", "", _COMMENT.sub("", ctype.split(";")[0]))
    return ctype if _TOKEN.match(ctype) else "text/plain"


def body_type(part: Message) -> str:
    """``content_type`` as the body is chosen by: a multipart whose boundary lines are missing is
    ``text/plain``, since the stdlib keeps its body as one text and that text is what the sender wrote."""
    ctype = content_type(part)
    return "text/plain" if ctype.startswith("multipart/") and not part.is_multipart() else ctype


_ctype = body_type


def _is_media(ctype: str) -> bool:
    return ctype.split("/")[0] in ("image", "audio", "video")


def _has_name(part: Message) -> bool:
    try:
        return bool(part.get_filename() or part.get_param("name", header="content-type"))
    except Exception:
        return True


def _disposition(part: Message) -> str | None:
    try:
        return part.get_content_disposition()
    except Exception:
        return None


def body_structure(msg: Message) -> Structure:
    found = Structure()
    if msg.is_multipart():
        sub = _ctype(msg).split("/")[1]
        _walk(_children(msg), sub, sub == "alternative", found.html, found.text, found)
    else:
        _walk([msg], "mixed", False, found.html, found.text, found)
    return found


def _children(part: Message) -> list[Message]:
    payload = part.get_payload() if part.is_multipart() else None  # a held body is not read for this
    return [p for p in payload if isinstance(p, Message)] if isinstance(payload, list) else []


def _walk(parts: list[Message], multipart: str, in_alternative: bool, html: list[Message] | None,
          text: list[Message] | None, found: Structure) -> None:
    text_len = len(text) if text is not None else -1
    html_len = len(html) if html is not None else -1
    for i, part in enumerate(parts):
        ctype = _ctype(part)
        if part.is_multipart() and ctype.startswith("multipart/"):
            sub = ctype.split("/")[1]
            _walk(_children(part), sub, in_alternative or sub == "alternative", html, text, found)
            continue
        inline = (_disposition(part) != "attachment"
                  and (ctype in ("text/plain", "text/html") or _is_media(ctype))
                  and (i == 0 or (multipart != "related" and (_is_media(ctype) or not _has_name(part)))))
        if not inline:
            found.attachments.append(part)
            continue
        if multipart == "alternative":
            target = text if ctype == "text/plain" else html if ctype == "text/html" else found.attachments
            if target is not None:
                target.append(part)
            continue
        if in_alternative:
            if ctype == "text/plain":
                html = None
            if ctype == "text/html":
                text = None
        if text is not None:
            text.append(part)
        if html is not None:
            html.append(part)
        if (text is None or html is None) and _is_media(ctype):
            found.attachments.append(part)
    if multipart == "alternative" and text is not None and html is not None:
        if text_len == len(text) and html_len != len(html):
            text.extend(html[html_len:])
        if html_len == len(html) and text_len != len(text):
            html.extend(text[text_len:])
