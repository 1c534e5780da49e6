"""Rendering a template an admin is writing, before it is stored: against the built-in sample mail,
one stored mail (by its id), or an item's last mail. The check that ``accounts apply`` runs comes
first, so the preview refuses what storing would refuse, with the same line and reason."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from services.app import items
from services.app.actors import Actor
from services.app.errors import Invalid, NotFound
from shared.contracts import Address, ItemChanged, MailSummary
from shared.contracts.items import MAX_TEXT_CHARS
from shared.db.models import Account, Item, ItemMail
from shared.templates import KINDS, SAMPLE_EVENT, MailTemplates, check_templates, template_context
from shared.tokens import ItemTokens

_TEMPLATES = MailTemplates()


@dataclass(frozen=True)
class Against:
    """What to render against: ``mail_id``, else item ``number`` (of ``item_type``), else the sample."""

    mail_id: int | None = None
    number: int | None = None
    item_type: str | None = None


def preview(session: Session, actor: Actor, kind: str, parts: dict[str, str], against: Against,
            tokens: ItemTokens, console_url: str = "", account: str | None = None) -> dict[str, Any]:
    """``{"subject", "text", "html", "problems"}``: the rendered mail (``html`` None for a plain-text
    one), or the problems (each ``template``, ``line``, ``reason``) and nothing rendered. With
    ``account``, the parts not given are that account's stored ones, and its address is the sender's."""
    actor.require_admin("previewing templates")
    if kind not in KINDS:
        raise Invalid(f"unknown kind {kind!r} (known: {', '.join(KINDS)})", field="kind")
    stored = None
    if account is not None:
        stored = session.scalar(select(Account).where(Account.name == account))
        if stored is None:
            raise NotFound(f"no account {account}")
        parts = {**((stored.config or {}).get("templates") or {}).get(kind, {}), **parts}
    problems = check_templates({kind: parts})
    if not problems:
        event, address, source = _event(session, against)
        address = stored.address if stored is not None else address
        token = tokens.subject_token(event.item.number)
        rendered = _TEMPLATES.render(kind, template_context(event, token, address, console_url=console_url), parts)
        problems = list(rendered.problems)
        if not problems:
            return {"kind": kind, "against": source, "subject": rendered.subject, "text": rendered.text,
                    "html": rendered.html, "problems": []}
    return {"kind": kind, "against": _name(against), "subject": None, "text": None, "html": None,
            "problems": [{"template": p.template, "line": p.line, "reason": p.reason, "message": str(p)}
                         for p in problems]}


def _name(against: Against) -> str:
    if against.mail_id is not None:
        return f"mail {against.mail_id}"
    if against.number is not None:
        return f"{against.item_type or 'item'} #{against.number}"
    return "sample"


def _event(session: Session, against: Against) -> tuple[ItemChanged, str, str]:
    if against.mail_id is None and against.number is None:
        return SAMPLE_EVENT, "support@example.com", "sample"
    if against.mail_id is not None:
        mail = session.get(ItemMail, against.mail_id)
        if mail is None or mail.direction != "in":
            raise NotFound(f"no stored inbound mail {against.mail_id}")
        item = session.get_one(Item, mail.item_id)
    else:
        assert against.number is not None
        item = items.find_number(session, against.number, against.item_type)
        found = items.last_inbound(session, item)
        if found is None:
            raise NotFound(f"{item.type} #{item.number} has no inbound mail")
        mail = found
    first = session.scalar(select(ItemMail.id).where(ItemMail.item_id == item.id, ItemMail.direction == "in")
                           .order_by(ItemMail.id).limit(1))
    address = session.scalar(select(Account.address).where(Account.name == mail.account)) or ""
    sender = Address(name=mail.from_name, address=mail.from_address) if mail.from_address else None
    reply = None if mail.reply_text is None else mail.reply_text[:MAX_TEXT_CHARS]
    event = ItemChanged(change="created" if first == mail.id else "appended", account=mail.account,
                        item=items.item_summary(session, item), auto_reply=True,
                        mail=MailSummary(message_id=mail.message_id, subject=mail.subject, from_=sender,
                                         text=mail.text[:MAX_TEXT_CHARS], reply_text=reply))
    return event, address, f"mail {mail.id} ({item.type} #{item.number})"
