"""Merge an item into another, and split one mail out into an item of its own.

A merge moves the mails, attachments, outbound mail and watchers to the target; the merged item
keeps its history, says where it went, and takes the first closed status. The pipeline's append
rules follow ``merged_into_id``, so a reply to the merged item's token lands on the target."""

from __future__ import annotations

from sqlalchemy import or_, select, update
from sqlalchemy.orm import Session

from services.app import catalog
from services.app.actors import Actor
from services.app.errors import Invalid, NotFound
from services.app.items import announce, record
from shared.contracts import FieldChange, StatusChange
from shared.db.models import (Item, ItemAttachment, ItemLink, ItemMail, ItemNotify, OutboundMail, Status,
                              utcnow)
from shared.db.sequences import next_number


def merge(session: Session, actor: Actor, source: Item, target: Item) -> None:
    catalog.require_open(source)
    catalog.require_open(target)
    if source.id == target.id:
        raise Invalid("an item cannot be merged into itself", field="target")
    if source.type != target.type:
        raise Invalid(f"{source.type} #{source.number} can only be merged into another {source.type}", field="target")
    for model in (ItemMail, ItemAttachment, OutboundMail):
        session.execute(update(model).where(model.item_id == source.id).values(item_id=target.id))
    on_target = set(session.scalars(select(ItemNotify.address).where(ItemNotify.item_id == target.id)))
    for watcher in session.scalars(select(ItemNotify).where(ItemNotify.item_id == source.id)):
        if watcher.address in on_target:
            session.delete(watcher)
        else:
            watcher.item_id = target.id
    for link in session.scalars(select(ItemLink).where(or_(ItemLink.item_id == source.id,
                                                           ItemLink.other_item_id == source.id))):
        session.delete(link)  # the follow-up links between them, and the source's, are settled by the merge
    closed = session.scalar(select(Status.name).where(Status.closed.is_(True)).order_by(Status.position).limit(1))
    before = (source.status, source.step)
    source.merged_into_id = target.id
    source.status = closed or source.status
    source.updated_at = target.updated_at = utcnow()
    session.flush()
    record(session, source, actor, "merged", into={"type": target.type, "number": target.number})
    record(session, target, actor, "merged-in", source={"type": source.type, "number": source.number})
    change = FieldChange(field="merged-into", before=None, after=f"{target.type} #{target.number}")
    status = None if before[0] == source.status else StatusChange(from_status=before[0], to_status=source.status,
                                                                 from_step=before[1], to_step=source.step)
    announce(session, target, actor, [FieldChange(field="merged-in", after=f"{source.type} #{source.number}")], None)
    announce(session, source, actor, [change], status)


def split(session: Session, actor: Actor, item: Item, mail_id: int) -> Item:
    """A new item from one of ``item``'s inbound mails (and that mail's attachments)."""
    catalog.require_open(item)
    mail = session.get(ItemMail, mail_id)
    if mail is None or mail.item_id != item.id:
        raise NotFound(f"{item.type} #{item.number} has no mail {mail_id}")
    if mail.direction != "in":
        raise Invalid("only a mail we received can be split off", field="mail")
    if session.scalar(select(ItemMail.id).where(ItemMail.item_id == item.id, ItemMail.direction == "in",
                                               ItemMail.id != mail.id).limit(1)) is None:
        raise Invalid("the item's only mail cannot be split off", field="mail")
    new = Item(type=item.type, number=next_number(session, item.type), project=item.project,
               title=(mail.subject or item.title)[:255], description=mail.text, status=item.status, step=item.step,
               account=item.account, customer_id=item.customer_id, fields=dict(item.fields or {}))
    session.add(new)
    session.flush()
    mail.item_id = new.id
    session.execute(update(ItemAttachment).where(ItemAttachment.mail_id == mail.id).values(item_id=new.id))
    for watcher in session.scalars(select(ItemNotify).where(ItemNotify.item_id == item.id)):
        session.add(ItemNotify(item_id=new.id, address=watcher.address, name=watcher.name,
                               added_because=f"split off {item.type} #{item.number}"))
    session.add(ItemLink(item_id=new.id, other_item_id=item.id, kind="split-from",
                         reason=f"{actor.email} split mail {mail.id} off"))
    record(session, item, actor, "split", mail=mail.id, into={"type": new.type, "number": new.number})
    record(session, new, actor, "split-from", mail=mail.id, source={"type": item.type, "number": item.number})
    return new
