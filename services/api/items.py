"""Working items: list, show, change, watchers, reply, merge, split, attachments."""

from __future__ import annotations

import base64
import binascii
from typing import Any

from fastapi import APIRouter, Query
from fastapi.responses import Response

from services.api.deps import Agent, Ctx, UnitOfWork
from services.api.schemas import ItemPatch, MergeIn, ReplyIn, SplitIn, Watcher
from services.app import attachments, items, merging, replies
from services.app.errors import Invalid
from services.app.itemviews import item_details

router = APIRouter(prefix="/items")


@router.get("", summary="Items, newest first, filtered")
def list_items(who: Agent, session: UnitOfWork, project: str | None = None, type: str | None = None,
               status: str | None = None, step: str | None = None, account: str | None = None,
               assignee: str | None = Query(None, description="a user's email, or 'none'"),
               q: str | None = Query(None, description="text in the title or description"),
               include_merged: bool = False, page: int = 1, per_page: int = 50) -> dict[str, Any]:
    found = items.list_items(session, items.Filters(project, type, status, step, account, assignee, q, include_merged),
                             page, per_page)
    return {"items": found.items, "total": found.total, "page": found.page, "per_page": found.per_page}


@router.get("/{item_type}/{number}")
def show(item_type: str, number: int, who: Agent, session: UnitOfWork) -> dict[str, Any]:
    return item_details(session, items.find(session, item_type, number))


@router.patch("/{item_type}/{number}", summary="Change status, step, assignee, title or custom fields")
def edit(item_type: str, number: int, body: ItemPatch, who: Agent, session: UnitOfWork) -> dict[str, Any]:
    item = items.find(session, item_type, number)
    changes = items.edit_item(session, who, item, items.Edit(body.status, body.step, body.assignee, body.title,
                                                             body.fields))
    return {"changes": [c.model_dump() for c in changes], "item": items.summary(item)}


@router.post("/{item_type}/{number}/watchers", status_code=201)
def add_watcher(item_type: str, number: int, body: Watcher, who: Agent, session: UnitOfWork) -> dict[str, Any]:
    added = items.add_watcher(session, who, items.find(session, item_type, number), body.address, body.name)
    return {"added": added}


@router.delete("/{item_type}/{number}/watchers/{address}")
def remove_watcher(item_type: str, number: int, address: str, who: Agent, session: UnitOfWork) -> dict[str, Any]:
    return {"removed": items.remove_watcher(session, who, items.find(session, item_type, number), address)}


@router.post("/{item_type}/{number}/replies", status_code=202, summary="Reply to the customer")
def reply(item_type: str, number: int, body: ReplyIn, who: Agent, ctx: Ctx, session: UnitOfWork) -> dict[str, Any]:
    files = []
    for a in body.attachments:
        try:
            files.append((a.filename, a.content_type, base64.b64decode(a.content_base64, validate=True)))
        except binascii.Error:
            raise Invalid(f"attachment {a.filename!r}: content_base64 is not base64", field="attachments") from None
    reply_id = replies.reply(session, ctx.store, who, items.find(session, item_type, number),
                             replies.Draft(body.text, body.html, body.to, body.cc, files))
    return {"reply_id": reply_id, "delivery": "queued"}


@router.post("/{item_type}/{number}/merge", summary="Merge this item into another of its type")
def merge(item_type: str, number: int, body: MergeIn, who: Agent, session: UnitOfWork) -> dict[str, Any]:
    source, target = items.find(session, item_type, number), items.find(session, item_type, body.into)
    merging.merge(session, who, source, target)
    return {"merged": items.summary(source), "into": items.summary(target)}


@router.post("/{item_type}/{number}/split", status_code=201, summary="Split one mail out into a new item")
def split(item_type: str, number: int, body: SplitIn, who: Agent, session: UnitOfWork) -> dict[str, Any]:
    return items.summary(merging.split(session, who, items.find(session, item_type, number), body.mail_id))


@router.get("/{item_type}/{number}/attachments/{attachment_id}", response_class=Response,
            summary="An attachment's bytes, always as a download")
def download(item_type: str, number: int, attachment_id: int, who: Agent, ctx: Ctx, session: UnitOfWork) -> Response:
    found = attachments.attachment(session, ctx.store, items.find(session, item_type, number), attachment_id)
    # Never rendered by the browser: a download, its type not sniffed, whatever the sender claimed.
    return Response(found.data, media_type="application/octet-stream", headers={
        "Content-Disposition": attachments.disposition(found.filename),
        "X-Content-Type-Options": "nosniff"})
