"""Delivery status notifications about our own mail: recorded on the item the mail belonged to,
never appended as a customer's reply. Only a permanent failure flags an address on its contact,
and only an address the report names (``services/itemwriter/dsn.py`` says which reports count)."""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import select
from sqlalchemy.orm import Session

from services.itemwriter import dsn
from services.itemwriter.matching import by_number, thread_ids
from services.itemwriter.senders import ensure_contact
from shared.contracts import MailParsed
from shared.db.models import Item, ItemMail, OutboundMail, utcnow


@dataclass(frozen=True)
class Bounce:
    item: Item
    of_message_id: str | None
    signal: str  # delivery-failure | delivery-delayed | delivery-report: the mail's matched_by
    reason: str
    flags: dict[str, str] = field(default_factory=dict)  # address -> why it is flagged as failing
    reports: list[dict[str, str]] = field(default_factory=list)  # per address: action, status, verdict

    @property
    def failing(self) -> list[str]:
        return sorted(self.flags)


def find_bounce(session: Session, item_type: str, mail: MailParsed) -> Bounce | None:
    """The item a DSN reports on, found by the Message-ID it names (``bounce_of``, else the thread
    headers), else by our signed token; None when the mail is no DSN or names none of our mail."""
    if mail.classification.kind != "bounce":
        return None
    ids = [*([mail.bounce_of] if mail.bounce_of else []), *thread_ids(mail)]
    if ids:
        sent = session.execute(
            select(OutboundMail.message_id, OutboundMail.recipient, OutboundMail.item_id)
            .join(Item, Item.id == OutboundMail.item_id)
            .where(Item.type == item_type, OutboundMail.message_id.in_(ids))).all()
        if sent:
            # The mail the report names first (bounce_of), else any the thread names; whom we wrote:
            # every mail the report names, since any of them may be the one it is about.
            named = next((r for r in sent if r.message_id == mail.bounce_of), sent[0])
            recipients = {r.recipient.lower() for r in sent}
            return _bounce(session.get_one(Item, named.item_id), named.message_id, named.message_id, mail,
                           recipients)
        row = session.execute(select(ItemMail.item_id, ItemMail.message_id).where(
            ItemMail.item_type == item_type, ItemMail.direction == "out", ItemMail.message_id.in_(ids))).first()
        if row is not None:
            return _bounce(session.get_one(Item, row.item_id), row.message_id, row.message_id, mail, None)
    for ref in mail.item_refs:
        if ref.signed and ref.item_type == item_type:
            item = by_number(session, item_type, ref.number)
            if item is not None:
                return _bounce(item, None, f"about #{ref.number} (our signed token)", mail, None)
    return None


def _bounce(item: Item, mid: str | None, what: str, mail: MailParsed, recipients: set[str] | None) -> Bounce:
    """``recipients``: whom the reported mail went to, when the outbox knows; None when it does not
    (a mail found in the item's history only, or by its token): then the report is recorded and
    flags nobody."""
    reading = dsn.read(list(mail.delivery_reports), recipients)
    ours = f"our mail {mid}" if mid else f"our mail about #{item.number}"
    flags = {address: f"{ours} failed permanently: {why}" for address, why in reading.flags.items()}
    # The signal (delivery-failure, -delayed, -report) leads the recorded line; the Message-ID next,
    # where the reply's delivery state looks for it (services/app/replies.py).
    return Bounce(item, mid, reading.signal, f"our mail {what}: {reading.summary}", flags, reading.lines)


def flag_failing(session: Session, flags: dict[str, str]) -> None:
    """Flag each address with its own reason; an address flagged before keeps its first reason."""
    for address, reason in flags.items():
        contact = ensure_contact(session, address, "", None)
        if not contact.failing:
            contact.failing, contact.failing_reason, contact.failing_since = True, reason[:500], utcnow()
