"""Building the outgoing mail. Every value copied from an incoming mail is flattened to one line
first, so nothing can inject a header (headers.py).

The mail is written as bytes from a fixed layout (multipart/alternative: text, then HTML; text/plain
alone when the templates give no HTML) instead of
through ``email.message.EmailMessage``, whose header parsing and generator cost more than the rest of
a send."""

from __future__ import annotations

import binascii
import secrets
from dataclasses import dataclass
from email.utils import format_datetime

from services.notifier.headers import CRLF, SOFT_LIMIT, address_header, header, one_line, references
from shared.contracts import Address, ItemChanged
from shared.db.models import utcnow
from shared.templates import Rendered

LOOP_HEADER = "X-Postroom-Loop"


@dataclass(frozen=True)
class Composed:
    """The mail as it goes over SMTP, and what the item's history records of it."""

    subject: str
    from_address: str
    text: str  # the text part as a reader gets it back (lines joined by LF, ending with one)
    data: bytes  # the whole mail, CRLF line ends


def text_part(content: str, subtype: str) -> tuple[str, str]:
    """The part's headers and body, and the content as a reader decodes it. Line ends become LF
    and the content ends with one, as ``EmailMessage.set_content`` does; ASCII with short lines goes
    as 7bit, anything else as quoted-printable, so no 8BITMIME is needed."""
    lines = content.encode("utf-8").splitlines()
    decoded = b"\n".join(lines) + b"\n"
    if decoded.isascii() and max(map(len, lines), default=0) <= SOFT_LIMIT:
        cte, body = "7bit", (b"\r\n".join(lines) + b"\r\n").decode("ascii")
    else:
        cte = "quoted-printable"
        body = binascii.b2a_qp(decoded, istext=True).replace(b"\n", b"\r\n").decode("ascii")
    head = f'Content-Type: text/{subtype}; charset="utf-8"{CRLF}Content-Transfer-Encoding: {cte}{CRLF}'
    return head + CRLF + body, decoded.decode("utf-8")


def build(event: ItemChanged, rendered: Rendered, *, kind: str, from_address: str, to: Address, message_id: str,
          loop_id: str) -> Composed:
    subject = one_line(rendered.subject)
    head = [header("Subject", subject), header("From", from_address), address_header("To", to),
            header("Date", format_datetime(utcnow())), header("Message-ID", message_id)]
    if event.mail.message_id:
        head.append(header("In-Reply-To", event.mail.message_id))
    if event.mail.references:
        head.append(references(event.mail.references[-20:]))
    # RFC 3834 §5: mark every automatic mail as such, and ask Exchange not to answer it.
    head += [header("Auto-Submitted", "auto-replied" if kind == "auto-reply" else "auto-generated"),
             header("X-Auto-Response-Suppress", "All"), header(LOOP_HEADER, loop_id)]
    plain, text = text_part(rendered.text, "plain")
    if rendered.html is None:
        data = "".join(head) + "MIME-Version: 1.0" + CRLF + plain
        return Composed(subject, from_address, text, data.encode("ascii"))
    html, _ = text_part(rendered.html, "html")
    # "=_" never occurs in quoted-printable; a 7bit part is checked (RFC 2046 §5.1.1).
    boundary = "=_" + secrets.token_hex(16)
    while boundary in plain or boundary in html:
        boundary = "=_" + secrets.token_hex(16)
    head += ["MIME-Version: 1.0" + CRLF, f'Content-Type: multipart/alternative;{CRLF} boundary="{boundary}"{CRLF}']
    # The CRLF before a delimiter belongs to the delimiter (RFC 2046 §5.1.1): each part's last line
    # end is kept by writing one more.
    data = "".join(head) + f"{CRLF}--{boundary}{CRLF}{plain}{CRLF}--{boundary}{CRLF}{html}{CRLF}--{boundary}--{CRLF}"
    return Composed(subject, from_address, text, data.encode("ascii"))
