"""Building the outgoing mail. Every value copied from an incoming mail is flattened to one line
first, so nothing can inject a header (headers.py).

The mail is written as bytes from a fixed layout (multipart/alternative: text, then HTML) instead of
through ``email.message.EmailMessage``, whose header parsing and generator cost more than the rest of
a send."""

from __future__ import annotations

import binascii
import secrets
from dataclasses import dataclass
from email.utils import format_datetime

from services.notifier.headers import CRLF, SOFT_LIMIT, address_header, header, one_line, references
from services.notifier.templates import Rendered
from shared.contracts import Address, ItemChanged, ItemEdited
from shared.db.models import utcnow

LOOP_HEADER = "X-Postroom-Loop"


@dataclass(frozen=True)
class Composed:
    """The mail as it goes over SMTP, and what the item's history records of it."""

    subject: str
    from_address: str
    text: str  # the text part as a reader gets it back (lines joined by LF, ending with one)
    data: bytes  # the whole mail, CRLF line ends


def template_context(event: ItemChanged, token: str, account_address: str,
                     edited: ItemEdited | None = None) -> dict[str, object]:
    """Plain values only: the sandboxed templates see these and nothing behind them. ``edited``: a
    person's change (``actor`` and ``changes``), else mail's."""
    sender, change = event.mail.from_, event.status_change
    return {
        "actor": edited.actor if edited else "",
        "changes": [c.model_dump() for c in edited.changes] if edited else [],
        "token": token,
        "item": event.item.model_dump(),
        "mail": {"subject": one_line(event.mail.subject).replace(token, "").strip(),
                 "from_name": sender.name if sender else "", "from_address": sender.address if sender else "",
                 "message_id": event.mail.message_id},
        "account": {"name": event.account, "address": account_address},
        "change": event.change,
        "status": {"from": change.from_status if change else event.item.status,
                   "to": change.to_status if change else event.item.status,
                   "step": (change.to_step if change else event.item.step) or "",
                   "reopened": bool(change and change.reopened)},
    }


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
