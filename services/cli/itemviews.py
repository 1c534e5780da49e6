"""What ``postroom items show`` shows: the item, its email history with the signal that matched each
mail, the automatic mail sent, held back or refused about it (with the reason), its possible
follow-up links and its notification list."""

from __future__ import annotations

from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from shared.db.models import Contact, Customer, Item, ItemLink, ItemNotify, OutboundMail, User


def _name(session: Session, model: type, row_id: int | None, attr: str) -> str | None:
    row = session.get(model, row_id) if row_id else None
    return getattr(row, attr) if row else None


def item_details(session: Session, item: Item) -> dict[str, Any]:
    links = session.scalars(select(ItemLink).where(or_(ItemLink.item_id == item.id,
                                                       ItemLink.other_item_id == item.id))).all()
    return {
        "description": item.description, "fields": item.fields,
        "item_date": item.item_date.isoformat() if item.item_date else None,
        "creator": _name(session, User, item.creator_id, "email"),
        "customer": _name(session, Customer, item.customer_id, "name"),
        "contact": _name(session, Contact, item.contact_id, "email"),
        "mails": [{"direction": m.direction, "message_id": m.message_id, "subject": m.subject,
                   "from": m.from_address, "classification": m.classification, "matched_by": m.matched_by,
                   "decision": m.decision, "text": m.text, "raw_key": m.raw_key,
                   "created_at": m.created_at.isoformat()} for m in item.mails],
        "attachments": [{"filename": a.filename, "content_type": a.content_type, "size": a.size,
                         "sha256": a.sha256, "blob_key": a.blob_key} for a in item.attachments],
        "outbound": [{"kind": o.kind, "recipient": o.recipient, "status": o.status, "reason": o.reason,
                      "message_id": o.message_id or None, "attempts": o.attempts,
                      "created_at": o.created_at.isoformat()}
                     for o in session.scalars(select(OutboundMail).where(OutboundMail.item_id == item.id)
                                              .order_by(OutboundMail.id))],
        "links": [_link(session, item, link) for link in links],
        "notify": [{"address": n.address, "name": n.name, "added_because": n.added_because}
                   for n in session.scalars(select(ItemNotify).where(ItemNotify.item_id == item.id)
                                            .order_by(ItemNotify.id))],
    }


def _link(session: Session, item: Item, link: ItemLink) -> dict[str, Any]:
    other = session.get_one(Item, link.other_item_id if link.item_id == item.id else link.item_id)
    role = link.kind if link.item_id == item.id else f"has {link.kind}"
    return {"kind": role, "type": other.type, "number": other.number, "title": other.title, "reason": link.reason}


def render(d: dict[str, Any]) -> str:
    lines = [f"{d['type']} #{d['number']}: {d['title']}",
             f"status: {d['status']}   step: {d['step'] or '-'}   project: {d['project']}   account: {d['account']}",
             f"customer: {d['customer'] or '-'}   contact: {d['contact'] or '-'}   creator: {d['creator'] or '-'}"
             + ("   (automatic)" if d["automatic"] else "")]
    lines += [f"{k}: {v}" for k, v in d["fields"].items()]
    lines += ["", d["description"], "", "email history:"]
    for m in d["mails"]:
        dec = m["decision"] or {}
        lines.append(f"  {m['direction']:<3} {m['created_at'][:19]} {m['from'] or '-'}  {m['subject']}")
        lines.append(f"      {m['message_id'] or '(no Message-ID)'}  [{m['classification']}]")
        lines.append(f"      matched by: {m['matched_by']}")
        lines += [f"      - {c}" for c in dec.get("considered", [])]
    for a in d["attachments"]:
        lines.append(f"  attachment: {a['filename']} ({a['content_type']}, {a['size']} bytes)")
    lines.append("automatic mail:" if d["outbound"] else "automatic mail: none")
    lines += [f"  {o['created_at'][:19]} {o['kind']:<14} to {o['recipient']}: {o['status']}"
              + (f" ({o['reason']})" if o["reason"] else "") for o in d["outbound"]]
    lines.append("links:" if d["links"] else "links: none")
    lines += [f"  {x['kind']}: {x['type']} #{x['number']} {x['title']}  ({x['reason']})" for x in d["links"]]
    lines.append("notification list:" if d["notify"] else "notification list: empty")
    lines += [f"  {n['address']}  ({n['added_because']})" for n in d["notify"]]
    return "\n".join(lines)
