"""What an item shows a person: the item, its email history with the signal that matched each mail,
the mail sent about it (automatic and by people, with its delivery state), its links, its
notification list and its history of who did what."""

from __future__ import annotations

from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from services.app.items import summary
from services.app.replies import delivery
from shared.db.models import Contact, Customer, Item, ItemEvent, ItemLink, ItemNotify, OutboundMail, User
from shared.risky import risk


def _name(session: Session, model: type, row_id: int | None, attr: str) -> str | None:
    row = session.get(model, row_id) if row_id else None
    return getattr(row, attr) if row else None


def item_details(session: Session, item: Item) -> dict[str, Any]:
    links = session.scalars(select(ItemLink).where(or_(ItemLink.item_id == item.id,
                                                       ItemLink.other_item_id == item.id))).all()
    merged = session.get(Item, item.merged_into_id) if item.merged_into_id else None
    history = list(session.scalars(select(ItemEvent).where(ItemEvent.item_id == item.id).order_by(ItemEvent.id)))
    return summary(item, _name(session, User, item.assignee_id, "email")) | {
        "merged_into": {"type": merged.type, "number": merged.number} if merged else None,
        "description": item.description, "fields": item.fields,
        "item_date": item.item_date.isoformat() if item.item_date else None,
        "creator": _name(session, User, item.creator_id, "email"),
        "customer": _name(session, Customer, item.customer_id, "name"),
        "contact": _name(session, Contact, item.contact_id, "email"),
        "mails": [{"id": m.id, "direction": m.direction, "message_id": m.message_id, "subject": m.subject,
                   "from": m.from_address, "classification": m.classification, "matched_by": m.matched_by,
                   "decision": m.decision, "text": m.text, "raw_key": m.raw_key,
                   "created_at": m.created_at.isoformat()}
                  for m in item.mails],
        "attachments": [{"id": a.id, "mail_id": a.mail_id, "filename": a.filename, "content_type": a.content_type,
                         "size": a.size, "sha256": a.sha256, "inline": a.inline,
                         "risk": risk(a.filename, a.content_type)} for a in item.attachments],
        "outbound": [{"kind": o.kind, "recipient": o.recipient, "status": o.status, "reason": o.reason,
                      "message_id": o.message_id or None, "attempts": o.attempts,
                      "created_at": o.created_at.isoformat()}
                     for o in session.scalars(select(OutboundMail).where(OutboundMail.item_id == item.id)
                                              .order_by(OutboundMail.id))],
        "replies": [_reply(session, item, e) for e in history if e.action == "replied"],
        "links": [_link(session, item, link) for link in links],
        "notify": [{"address": n.address, "name": n.name, "added_because": n.added_because}
                   for n in session.scalars(select(ItemNotify).where(ItemNotify.item_id == item.id)
                                            .order_by(ItemNotify.id))],
        "history": [{"at": e.created_at.isoformat(), "actor": e.actor, "action": e.action, "detail": e.detail}
                    for e in history],
    }


def _reply(session: Session, item: Item, event: ItemEvent) -> dict[str, Any]:
    target = session.get(Item, item.merged_into_id) if item.merged_into_id else item
    state, why = delivery(session, target or item, event.detail["reply_id"])
    return {"id": event.detail["reply_id"], "by": event.actor, "at": event.created_at.isoformat(),
            "to": event.detail.get("to", []), "cc": event.detail.get("cc", []), "subject": event.detail.get("subject"),
            "delivery": state, "reason": why}


def _link(session: Session, item: Item, link: ItemLink) -> dict[str, Any]:
    other = session.get_one(Item, link.other_item_id if link.item_id == item.id else link.item_id)
    role = link.kind if link.item_id == item.id else f"has {link.kind}"
    return {"kind": role, "type": other.type, "number": other.number, "title": other.title, "reason": link.reason}
