"""A mail's HTML as a person sees it: the parser's sanitized HTML (nothing runs, nothing remote is
fetched), each inline image's ``cid:`` address (RFC 2392) replaced by the item's stored attachment,
and the remote images, whose addresses the parser set aside, put back only when asked for.

The console shows the document in a sandboxed frame, a unique origin to which the browser sends no
cookie (``SameSite=Strict``): an image there could not be fetched from a route that needs the
session. So an inline image is written into the document as a ``data:`` URL, read with the session
that fetched the document; that is the one kind of image the frame's policy allows besides the
remote ones a person asked for (``services/console/security.py``)."""

from __future__ import annotations

import base64
import html
from dataclasses import dataclass
from urllib.parse import unquote

from sqlalchemy import select
from sqlalchemy.orm import Session

from services.app.errors import NotFound
from shared.db.models import Item, ItemAttachment, ItemMail
from shared.htmlimages import REMOTE_SRC, has_remote_images, is_remote, rewrite_images
from shared.store import BlobNotFound, BlobStore

# Raster types a browser draws without running anything (not SVG, which can carry script and links).
SHOWN_IMAGE_TYPES = frozenset({"image/png", "image/jpeg", "image/gif", "image/webp", "image/bmp"})
MAX_INLINE_BYTES = 5 * 1024 * 1024  # one image; a bigger one is left to its download link
MAX_DOCUMENT_BYTES = 20 * 1024 * 1024  # every inline image of one mail together

# A document of its own, so the frame has a charset and its links open outside it.
_DOCUMENT = ('<!doctype html>\n<html><head><meta charset="utf-8"><base target="_blank">'
             '<title>{title}</title></head>\n<body>\n{body}\n</body></html>\n')


@dataclass(frozen=True)
class MailHtml:
    document: str
    remote_images: bool  # the mail has remote images (shown or not)
    shown_remote: bool  # and they are in this document


def content_id(value: str) -> str:
    """A Content-ID header's value or a ``cid:`` URL's, as the two are compared: no angle brackets,
    the URL's %-escapes undone."""
    return unquote(value.strip()).strip().removeprefix("<").removesuffix(">").strip()


def html_mails(session: Session, item: Item) -> dict[int, bool]:
    """The item's mails that have HTML, each with whether it has remote images."""
    rows = session.execute(select(ItemMail.id, ItemMail.html).where(ItemMail.item_id == item.id,
                                                                    ItemMail.html.is_not(None)))
    return {mail_id: has_remote_images(text or "") for mail_id, text in rows}


def mail_html(session: Session, store: BlobStore, item: Item, mail_id: int, *, remote: bool) -> MailHtml:
    """The mail's HTML document: inline images in it, remote images at their own addresses when
    ``remote``, else with no address at all."""
    mail = session.get(ItemMail, mail_id)
    if mail is None or mail.item_id != item.id:
        raise NotFound(f"{item.type} #{item.number} has no mail {mail_id}")
    if mail.html is None:
        raise NotFound(f"mail {mail_id} has no HTML part")
    inline = {content_id(a.content_id): a for a in session.scalars(
        select(ItemAttachment).where(ItemAttachment.mail_id == mail.id, ItemAttachment.content_id.is_not(None)))
        if a.content_id}
    images = _Images(store)

    def place(attributes: dict[str, str]) -> dict[str, str]:
        src, set_aside = attributes.pop("src", ""), attributes.pop(REMOTE_SRC, "")
        if src.strip().lower().startswith("cid:"):
            found = inline.get(content_id(src.strip()[4:]))
            url = images.data_url(found) if found is not None else None
            if url:
                attributes["src"] = url
        elif is_remote(set_aside):
            if remote:
                attributes["src"] = set_aside.strip()
            else:
                attributes[REMOTE_SRC] = set_aside
        return attributes

    body = rewrite_images(mail.html, place)
    has_remote = has_remote_images(mail.html)
    title = html.escape(f"{item.type} #{item.number}, mail {mail.id}")
    return MailHtml(_DOCUMENT.format(title=title, body=body), has_remote, remote and has_remote)


class _Images:
    """The inline images of one document as ``data:`` URLs, each read once, within the caps."""

    def __init__(self, store: BlobStore) -> None:
        self.store = store
        self.urls: dict[int, str | None] = {}
        self.total = 0

    def data_url(self, row: ItemAttachment) -> str | None:
        if row.id not in self.urls:
            self.urls[row.id] = self._read(row)
        return self.urls[row.id]

    def _read(self, row: ItemAttachment) -> str | None:
        kind = row.content_type.lower()
        if not row.blob_key or kind not in SHOWN_IMAGE_TYPES or row.size > MAX_INLINE_BYTES:
            return None
        if self.total + row.size > MAX_DOCUMENT_BYTES:
            return None
        try:
            data = self.store.get(row.blob_key)
        except BlobNotFound:
            return None  # retention let it go: the image's alt text stands in
        self.total += len(data)
        return f"data:{kind};base64,{base64.b64encode(data).decode()}"
