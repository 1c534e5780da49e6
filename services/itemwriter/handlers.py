"""The itemwriter's handler: create or append in one transaction, outputs recorded with the effect."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError, OperationalError
from sqlalchemy.orm import Session, sessionmaker

from services.itemwriter.matching import find_item
from services.itemwriter.repository import (dedupe_key, find_duplicate, next_number, record_outputs,
                                            recorded_outputs)
from shared.contracts import Envelope, ItemChanged, ItemSummary, MailParsed, MailSummary
from shared.db.engine import transaction
from shared.db.models import Account, Item, ItemAttachment, ItemMail, utcnow
from shared.errors import Reject, RetryLater
from shared.logging import get_logger

log = get_logger("postroom.itemwriter")


def make_handler(sessions: sessionmaker[Session]):
    def handle_mail_parsed(envelope: Envelope[Any]) -> Sequence[Envelope[Any]]:
        try:
            with transaction(sessions) as session:
                return write_item(session, envelope)
        except (IntegrityError, OperationalError) as exc:
            # A concurrent writer stored the same mail or took the same number, or the database is
            # briefly away: the retry finds the duplicate or succeeds.
            raise RetryLater(f"database: {type(exc).__name__}: {str(exc.orig)[:200]}") from None

    return handle_mail_parsed


def write_item(session: Session, envelope: Envelope[Any]) -> list[Envelope[Any]]:
    mail: MailParsed = envelope.payload
    account = session.scalar(select(Account).where(Account.name == mail.account))
    if account is None:
        raise Reject(f"unknown account {mail.account!r}: apply it with 'postroom accounts apply'")
    duplicate = find_duplicate(session, account.item_type, mail)
    if duplicate is not None:
        log.info("duplicate mail: re-publishing its recorded outputs", item_id=duplicate.item_id)
        return recorded_outputs(duplicate)

    match = find_item(session, account.item_type, mail)
    if match is None:
        item = Item(type=account.item_type, number=next_number(session, account.item_type),
                    project=account.project, title=(mail.subject or "(no subject)")[:255],
                    description=mail.text, status="new", account=account.name,
                    automatic=mail.classification.automatic)
        session.add(item)
        change, matched_by = "created", "new item"
    else:
        item, change, matched_by = match.item, "appended", match.signal
        item.updated_at = utcnow()
    session.flush()

    row = ItemMail(item_id=item.id, item_type=item.type, direction="in", account=account.name,
                   source_id=mail.source_id, dedupe_key=dedupe_key(mail), message_id=mail.message_id,
                   subject=mail.subject, from_address=mail.from_.address if mail.from_ else "",
                   from_name=mail.from_.name if mail.from_ else "", text=mail.text, raw_key=mail.raw.key,
                   classification=mail.classification.kind, matched_by=matched_by, mail_date=mail.date)
    session.add(row)
    session.flush()
    for att in mail.attachments:
        session.add(ItemAttachment(item_id=item.id, mail_id=row.id, filename=att.filename[:255],
                                   content_type=att.content_type[:255], size=att.size, sha256=att.sha256,
                                   blob_key=att.blob.key if att.blob else None, inline=att.inline,
                                   content_id=att.content_id))
    event = envelope.follow(ItemChanged(
        change=change, account=account.name,
        item=ItemSummary(id=item.id, type=item.type, number=item.number, title=item.title,
                         status=item.status, project=item.project),
        mail=MailSummary(message_id=mail.message_id, subject=mail.subject, from_=mail.from_,
                         reply_to=mail.reply_to, to=mail.to, cc=mail.cc,
                         references=[*mail.references, *([mail.message_id] if mail.message_id else [])],
                         classification=mail.classification),
        auto_reply=account.auto_reply and change == "created" and not mail.archive,
    ))
    record_outputs(row, [event])
    log.info("item written", change=change, item_type=item.type, item_number=item.number,
             matched_by=matched_by)
    return [event]
