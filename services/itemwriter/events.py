"""The ItemChanged event the notifier needs, built from the item and the decisions on the mail."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from services.itemwriter.notifications import Recipients
from services.itemwriter.workflow import Placement
from shared.contracts import Envelope, ItemChanged, ItemSummary, MailParsed, MailSummary, StatusChange
from shared.contracts.items import MAX_TEXT_CHARS
from shared.db.models import Customer, Item


def item_changed(session: Session, envelope: Envelope[Any], *, change: str, item: Item, matched_by: str,
                 before: tuple[str, str | None] | None, placement: Placement | None, recipients: Recipients,
                 sender_verified: bool, delivery_failure: bool, failing: list[str]) -> Envelope[Any]:
    mail: MailParsed = envelope.payload
    customer = session.get(Customer, item.customer_id) if item.customer_id else None
    status_change = None
    if before is not None and placement is not None and (placement.status, placement.step) != before:
        status_change = StatusChange(from_status=before[0], to_status=placement.status, from_step=before[1],
                                     to_step=placement.step, reopened=placement.reopened)
    return envelope.follow(ItemChanged(
        change=change, account=mail.account,  # type: ignore[arg-type]
        item=ItemSummary(id=item.id, type=item.type, number=item.number, title=item.title, status=item.status,
                         project=item.project, step=item.step, customer=customer.name if customer else None),
        mail=MailSummary(message_id=mail.message_id, subject=mail.subject, from_=mail.from_,
                         reply_to=mail.reply_to, to=mail.to, cc=mail.cc,
                         references=[*mail.references, *([mail.message_id] if mail.message_id else [])],
                         classification=mail.classification, text=mail.text[:MAX_TEXT_CHARS],
                         reply_text=None if mail.reply_text is None else mail.reply_text[:MAX_TEXT_CHARS]),
        auto_reply=recipients.auto_reply, matched_by=matched_by, sender_verified=sender_verified,
        status_change=status_change, notify=recipients.notify, withheld=recipients.withheld,
        delivery_failure=delivery_failure, failing_addresses=failing,
    ))
