"""An item's attachment as stored: its name, type and bytes."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.orm import Session

from services.app.errors import NotFound
from shared.db.models import Item, ItemAttachment
from shared.store import BlobNotFound, BlobStore


@dataclass(frozen=True)
class Download:
    filename: str
    content_type: str
    data: bytes


def attachment(session: Session, store: BlobStore, item: Item, attachment_id: int) -> Download:
    row = session.get(ItemAttachment, attachment_id)
    if row is None or row.item_id != item.id:
        raise NotFound(f"{item.type} #{item.number} has no attachment {attachment_id}")
    if not row.blob_key:
        raise NotFound(f"attachment {attachment_id}'s bytes are not kept: the account saves no attachments, "
                       "or retention removed them")
    try:
        data = store.get(row.blob_key)
    except BlobNotFound:
        raise NotFound(f"attachment {attachment_id}'s bytes are missing from the store") from None
    return Download(row.filename, row.content_type, data)


def disposition(filename: str) -> str:
    """``attachment`` with an ASCII fallback name and the real one in RFC 5987/6266 form."""
    from urllib.parse import quote

    ascii_name = "".join(c if c.isascii() and c.isprintable() and c not in '"\\;' else "_" for c in filename) or "file"
    return f"attachment; filename=\"{ascii_name}\"; filename*=UTF-8''{quote(filename, safe='')}"
