"""A person's reply to the customer: stored attachments, a line on the item's history, and a
``reply.requested.v1`` message the notifier sends exactly once, from the account's address with the
item's token, threaded to the customer's last mail."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field

from sqlalchemy import select
from sqlalchemy.orm import Session

from services.app import catalog, outgoing
from services.app.actors import Actor
from services.app.errors import Invalid
from services.app.items import item_summary, last_inbound, record, thread_of
from shared.contracts import Address, OutgoingAttachment, SendReply
from shared.db.models import Item, ItemMail, OutboundMail
from shared.risky import risk
from shared.store import BlobStore

MAX_ATTACHMENT_BYTES = 25 * 1024 * 1024


@dataclass
class Draft:
    text: str
    html: str = ""
    to: list[str] = field(default_factory=list)  # empty: the customer's last mail's Reply-To or From
    cc: list[str] = field(default_factory=list)
    attachments: list[tuple[str, str, bytes]] = field(default_factory=list)  # (filename, content type, bytes)


def _customer(session: Session, item: Item) -> list[Address]:
    last = last_inbound(session, item)
    if last is None:
        return []
    for envelope in (last.outputs or {}).get("envelopes", []):
        mail = (envelope.get("payload") or {}).get("mail") or {}
        if mail.get("reply_to"):
            return [Address.model_validate(a) for a in mail["reply_to"][:1]]
    return [Address(name=last.from_name, address=last.from_address)] if last.from_address else []


def reply(session: Session, store: BlobStore, actor: Actor, item: Item, draft: Draft) -> str:
    """Queue the reply; its id, by which the item shows its delivery state."""
    catalog.require_open(item)
    if not draft.text.strip():
        raise Invalid("a reply needs a text", field="text")
    to = [Address(address=catalog.address(a)) for a in draft.to] or _customer(session, item)
    if not to:
        raise Invalid("the item has no customer mail to answer: name the recipient in 'to'", field="to")
    cc = [Address(address=catalog.address(a)) for a in draft.cc]
    attachments = []
    for filename, content_type, data in draft.attachments:
        if len(data) > MAX_ATTACHMENT_BYTES:
            raise Invalid(f"attachment {filename!r} has {len(data)} bytes; the limit is {MAX_ATTACHMENT_BYTES}",
                          field="attachments")
        name = " ".join(filename.split()) or "attachment"
        danger = risk(name, content_type)
        if danger:  # the customer's mail client would open it: we never send such a file
            raise Invalid(f"attachment {name!r} is not sent: {danger}", field="attachments")
        attachments.append(OutgoingAttachment(filename=name, content_type=content_type or "application/octet-stream",
                                              blob=store.put(data)))
    in_reply_to, references, subject = thread_of(session, item)
    subject = subject if subject.lower().startswith("re:") else f"Re: {subject}"
    reply_id = str(uuid.uuid4())
    record(session, item, actor, "replied", reply_id=reply_id, to=[a.address for a in to], cc=[a.address for a in cc],
           subject=subject, text=draft.text[:2000], attachments=[a.filename for a in attachments])
    outgoing.queue(session, SendReply(reply_id=reply_id, account=item.account, item=item_summary(session, item),
                                      author=Address(name=actor.name, address=actor.email), to=to, cc=cc,
                                      subject=subject, text=draft.text, html=draft.html, attachments=attachments,
                                      in_reply_to=in_reply_to, references=references), message_id=reply_id)
    return reply_id


def delivery(session: Session, item: Item, reply_id: str) -> tuple[str, str]:
    """(queued | sending | sent | failed | bounced, why): the notifier's outbox rows of the reply, and
    a delivery failure report naming its Message-ID."""
    rows = list(session.scalars(select(OutboundMail).where(OutboundMail.event_id == reply_id)))
    if not rows:
        return "queued", ""
    failed = [r for r in rows if r.status == "failed"]
    if failed:
        return "failed", failed[0].reason
    if any(r.status == "pending" for r in rows):
        return "sending", ""
    message_id = rows[0].message_id
    # A delayed report ("delivery-delayed") names the reply too, but the mail is still on its way.
    bounce = session.scalar(select(ItemMail.matched_by).where(
        ItemMail.item_id == item.id, ItemMail.classification == "bounce",
        ItemMail.matched_by.startswith("delivery-failure"), ItemMail.matched_by.contains(message_id)).limit(1)
    ) if message_id else None
    return ("bounced", bounce) if bounce else ("sent", "")
