"""What a template sees: plain values (dicts, strings, numbers, lists) built from the item event,
and nothing behind them. The same values for a mail the notifier sends, a stored mail previewed and
the built-in sample, so a template checked against the sample sees what a real mail gives it."""

from __future__ import annotations

from typing import Any

from shared.contracts import Address, ItemChanged, ItemEdited, ItemSummary, MailSummary, StatusChange


def item_link(console_url: str, item_type: str, number: int) -> str:
    """The item's page in the console, or "" when no console URL is set."""
    return f"{console_url.rstrip('/')}/items/{item_type}/{number}" if console_url else ""


def template_context(event: ItemChanged, token: str, account_address: str, edited: ItemEdited | None = None,
                     console_url: str = "") -> dict[str, Any]:
    """``edited``: a person's change (``actor`` and ``changes``), else mail's."""
    sender, change = event.mail.from_, event.status_change
    return {
        "actor": edited.actor if edited else "",
        "changes": [c.model_dump() for c in edited.changes] if edited else [],
        "token": token,
        "item": event.item.model_dump(),
        "mail": {"subject": " ".join(event.mail.subject.split()).replace(token, "").strip(),
                 "from_name": sender.name if sender else "", "from_address": sender.address if sender else "",
                 "message_id": event.mail.message_id, "text": event.mail.text,
                 "reply_text": event.mail.text if event.mail.reply_text is None else event.mail.reply_text},
        "account": {"name": event.account, "address": account_address},
        "change": event.change,
        "status": {"from": change.from_status if change else event.item.status,
                   "to": change.to_status if change else event.item.status,
                   "step": (change.to_step if change else event.item.step) or "",
                   "reopened": bool(change and change.reopened)},
        "link": item_link(console_url, event.item.type, event.item.number),
    }


SAMPLE_EVENT = ItemChanged(
    change="appended", account="support", auto_reply=True,
    item=ItemSummary(id=1, type="incident", number=42, title="Printer jammed", status="open", project="Support",
                     step="in-progress", customer="ACME"),
    mail=MailSummary(message_id="<sample-2@customer.example>", subject="Re: [#42] Printer jammed",
                     from_=Address(name="Ada Lovelace", address="ada@customer.example"),
                     text="It jams again, on every second page.\n\nAda\n\n> It was jammed.\n",
                     reply_text="It jams again, on every second page."),
    status_change=StatusChange(from_status="waiting", to_status="open", from_step="waiting-for-customer",
                               to_step="in-progress"))


def sample_context(token: str = "[#42]", account_address: str = "support@example.com",
                   console_url: str = "https://postroom.example.com") -> dict[str, Any]:
    """The built-in sample mail's values: what templates are checked and previewed against."""
    return template_context(SAMPLE_EVENT, token, account_address, console_url=console_url)
