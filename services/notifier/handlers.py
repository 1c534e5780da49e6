"""The notifier's handler. An outbox row per (event, recipient, kind) is written before the SMTP
send and marked sent after it: a redelivered event never sends twice, and a send interrupted between
the server's acceptance and our record goes again with the same Message-ID, so clients collapse it."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from services.notifier.compose import auto_reply
from services.notifier.governor import auto_reply_refusal
from services.notifier.smtp import PermanentSendFailure, SmtpSender, TransientSendFailure
from shared import metrics
from shared.contracts import Envelope, ItemChanged
from shared.db.engine import transaction
from shared.db.models import Account, ItemMail, OutboundMail, utcnow
from shared.errors import Reject, RetryLater
from shared.logging import get_logger
from shared.tokens import ItemTokens

log = get_logger("postroom.notifier")
KIND_AUTO_REPLY = "auto-reply"


def make_handler(sessions: sessionmaker[Session], sender: SmtpSender, tokens: ItemTokens,
                 own_addresses: Sequence[str], template: str, loop_id: str
                 ) -> Callable[[Envelope[Any]], Sequence[Envelope[Any]]]:
    def handle_item_changed(envelope: Envelope[Any]) -> Sequence[Envelope[Any]]:
        event: ItemChanged = envelope.payload
        with transaction(sessions) as session:
            account = session.scalar(select(Account).where(Account.name == event.account))
            if account is None:
                raise Reject(f"unknown account {event.account!r}")
            ours = {a.lower() for a in own_addresses} | {a.lower() for a in session.scalars(select(Account.address))}
            from_address = account.address
        sender_addr = event.mail.reply_to[0] if event.mail.reply_to else event.mail.from_
        recipient = sender_addr.address if sender_addr else None
        refusal = auto_reply_refusal(event, recipient, ours)
        if refusal is not None:
            if event.auto_reply and recipient:  # a suppressed send the account wanted: on the record
                _record_suppressed(sessions, envelope, event, recipient, refusal)
            log.info("no auto-reply", reason=refusal)
            return []
        assert recipient is not None
        row = _claim(sessions, envelope, event, recipient, tokens, from_address)
        if row is None:
            return []
        message = auto_reply(event, from_address=from_address, to=sender_addr.formatted(),  # type: ignore[union-attr]
                             message_id=row.message_id, token=tokens.subject_token(event.item.number),
                             body_template=template, loop_id=loop_id)
        try:
            # RFC 3834 §3.3: an auto-response goes with a null return path, so it cannot bounce back.
            sender.send(message, envelope_from="", recipients=[recipient])
        except TransientSendFailure as exc:
            metrics.AUTO_REPLIES.labels(KIND_AUTO_REPLY, "deferred").inc()
            raise RetryLater(f"SMTP: {exc}") from None
        except PermanentSendFailure as exc:
            _finish(sessions, row.id, "failed", str(exc), message, event.item.type)
            metrics.AUTO_REPLIES.labels(KIND_AUTO_REPLY, "failed").inc()
            log.warning("auto-reply refused by the SMTP server", error=str(exc))
            return []
        _finish(sessions, row.id, "sent", "", message, event.item.type)
        metrics.AUTO_REPLIES.labels(KIND_AUTO_REPLY, "sent").inc()
        log.info("auto-reply sent", item_number=event.item.number)
        return []

    return handle_item_changed


def _claim(sessions: sessionmaker[Session], envelope: Envelope[Any], event: ItemChanged, recipient: str,
           tokens: ItemTokens, from_address: str) -> OutboundMail | None:
    """The outbox row to send, or None when this event's mail was already sent or settled."""
    with transaction(sessions) as session:
        row = session.scalar(select(OutboundMail).where(
            OutboundMail.event_id == envelope.message_id, OutboundMail.recipient == recipient,
            OutboundMail.kind == KIND_AUTO_REPLY))
        if row is not None and row.status != "pending":
            log.info("auto-reply already settled", status=row.status)
            return None
        if row is None:
            domain = from_address.rpartition("@")[2] or "postroom.invalid"
            row = OutboundMail(
                event_id=envelope.message_id, recipient=recipient, kind=KIND_AUTO_REPLY, item_id=event.item.id,
                account=event.account, status="pending", attempts=0,
                message_id=tokens.message_id(event.item.type, event.item.number, domain,
                                             unique=envelope.message_id.replace("-", "")))
            session.add(row)
        row.attempts += 1
        session.flush()
        return row


def _finish(sessions: sessionmaker[Session], row_id: int, status: str, reason: str, message: Any,
            item_type: str) -> None:
    with transaction(sessions) as session:
        row = session.get_one(OutboundMail, row_id)
        row.status, row.reason, row.subject = status, reason, str(message["Subject"])
        if status == "sent":
            row.sent_at = utcnow()
            session.add(ItemMail(item_id=row.item_id, item_type=item_type, direction="out", account=row.account,
                                 message_id=row.message_id, subject=row.subject, from_address=str(message["From"]),
                                 text=message.get_content() if not message.is_multipart() else "",
                                 classification="auto-reply", matched_by="sent by the notifier"))


def _record_suppressed(sessions: sessionmaker[Session], envelope: Envelope[Any], event: ItemChanged,
                       recipient: str, reason: str) -> None:
    with transaction(sessions) as session:
        exists = session.scalar(select(OutboundMail.id).where(
            OutboundMail.event_id == envelope.message_id, OutboundMail.recipient == recipient,
            OutboundMail.kind == KIND_AUTO_REPLY))
        if exists is None:
            session.add(OutboundMail(event_id=envelope.message_id, recipient=recipient, kind=KIND_AUTO_REPLY,
                                     item_id=event.item.id, account=event.account, message_id="",
                                     status="suppressed", reason=reason))
    metrics.AUTO_REPLIES.labels(KIND_AUTO_REPLY, "suppressed").inc()
