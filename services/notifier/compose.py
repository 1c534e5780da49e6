"""Building the outgoing mail. Headers are set through ``email.policy`` objects, and every value
copied from an incoming mail is flattened to one line first, so nothing can inject a header."""

from __future__ import annotations

from email.message import EmailMessage
from email.utils import format_datetime

from services.notifier.templates import Rendered
from shared.contracts import Address, ItemChanged
from shared.db.models import utcnow

LOOP_HEADER = "X-Postroom-Loop"


def one_line(text: str) -> str:
    return " ".join(text.split())


def template_context(event: ItemChanged, token: str, account_address: str) -> dict[str, object]:
    """Plain values only: the sandboxed templates see these and nothing behind them."""
    sender, change = event.mail.from_, event.status_change
    return {
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


def build(event: ItemChanged, rendered: Rendered, *, kind: str, from_address: str, to: Address, message_id: str,
          loop_id: str) -> EmailMessage:
    msg = EmailMessage()
    msg["Subject"] = one_line(rendered.subject)
    msg["From"] = from_address
    msg["To"] = to.formatted()
    msg["Date"] = format_datetime(utcnow())
    msg["Message-ID"] = message_id
    if event.mail.message_id:
        msg["In-Reply-To"] = event.mail.message_id
    if event.mail.references:
        msg["References"] = " ".join(event.mail.references[-20:])
    # RFC 3834 §5: mark every automatic mail as such, and ask Exchange not to answer it.
    msg["Auto-Submitted"] = "auto-replied" if kind == "auto-reply" else "auto-generated"
    msg["X-Auto-Response-Suppress"] = "All"
    msg[LOOP_HEADER] = loop_id
    msg.set_content(rendered.text)
    msg.add_alternative(rendered.html, subtype="html")
    return msg
