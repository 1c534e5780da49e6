"""Building the outgoing mail. Headers are built with ``email.policy`` objects, and every value
copied from an incoming mail is flattened to one line first, so nothing can inject a header."""

from __future__ import annotations

from email.message import EmailMessage
from email.utils import format_datetime, make_msgid

from shared.contracts import ItemChanged
from shared.db.models import utcnow

LOOP_HEADER = "X-Postroom-Loop"


def one_line(text: str) -> str:
    return " ".join(text.split())


def auto_reply(event: ItemChanged, *, from_address: str, to: str, message_id: str, token: str,
               body_template: str, loop_id: str) -> EmailMessage:
    msg = EmailMessage()
    subject = one_line(event.mail.subject).replace(token, "").strip() or "(no subject)"
    msg["Subject"] = f"{token} {subject}"
    msg["From"] = from_address
    msg["To"] = to
    msg["Date"] = format_datetime(utcnow())
    msg["Message-ID"] = message_id or make_msgid()
    if event.mail.message_id:
        msg["In-Reply-To"] = event.mail.message_id
    if event.mail.references:
        msg["References"] = " ".join(event.mail.references[-20:])
    # RFC 3834 §5: mark the response as automatic, and ask Exchange not to answer it.
    msg["Auto-Submitted"] = "auto-replied"
    msg["X-Auto-Response-Suppress"] = "All"
    msg[LOOP_HEADER] = loop_id
    msg.set_content(body_template.format(item_type=event.item.type, number=event.item.number, token=token,
                                         title=one_line(event.item.title), project=event.item.project))
    return msg
