"""Item persistence the handler needs: numbers, duplicates, recorded outputs."""

from __future__ import annotations

from typing import Any

from sqlalchemy import or_, select, update
from sqlalchemy.orm import Session

from shared.contracts import Envelope, MailParsed, decode
from shared.db.models import ItemMail, ItemSequence


def dedupe_key(mail: MailParsed) -> str:
    """The same mail twice, whatever path it took: its Message-ID, or its content when it has none."""
    return f"mid:{mail.message_id}" if mail.message_id else f"sha256:{mail.raw.sha256}"


def find_duplicate(session: Session, item_type: str, mail: MailParsed) -> ItemMail | None:
    return session.scalar(
        select(ItemMail).where(
            ItemMail.direction == "in",
            or_(
                (ItemMail.item_type == item_type) & (ItemMail.dedupe_key == dedupe_key(mail)),
                (ItemMail.account == mail.account) & (ItemMail.source_id == mail.source_id),
            ),
        ).limit(1)
    )


def next_number(session: Session, item_type: str) -> int:
    """Take the next number of ``item_type``. The UPDATE holds the counter's row lock until commit,
    so concurrent writers queue here instead of taking the same number."""
    updated = session.execute(
        update(ItemSequence).where(ItemSequence.item_type == item_type)
        .values(last_number=ItemSequence.last_number + 1)
    ).rowcount
    if not updated:
        # First item of this type. Two writers racing here: one gets an IntegrityError and retries.
        with session.begin_nested():
            session.add(ItemSequence(item_type=item_type, last_number=1))
        return 1
    return session.scalar(select(ItemSequence.last_number).where(ItemSequence.item_type == item_type)) or 1


def record_outputs(row: ItemMail, outputs: list[Envelope[Any]]) -> None:
    row.outputs = {"envelopes": [e.model_dump(mode="json", by_alias=True) for e in outputs]}


def recorded_outputs(row: ItemMail) -> list[Envelope[Any]]:
    import json

    return [decode(json.dumps(e).encode()) for e in (row.outputs or {}).get("envelopes", [])]
