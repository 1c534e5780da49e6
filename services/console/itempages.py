"""The items list and the item page, and the item page's forms: reply, change, watchers, merge, split.

Each form runs one application-layer function in its own unit of work. A refusal rolls that unit
back (nothing half-done is kept) and the page comes again with the message next to the form and what
was typed still in it; success redirects to the page (post/redirect/get)."""

from __future__ import annotations

import math
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, File, Form, Request, UploadFile
from fastapi.responses import HTMLResponse, Response

from services.app import attachments, catalog, items, mailhtml, merging, replies
from services.app.errors import AppError, Invalid
from services.app.itemviews import item_details
from services.console import security
from services.console.pages import PageRoute, Signed, see_other

router = APIRouter(route_class=PageRoute, include_in_schema=False)
PER_PAGE = 25
REFRESH = "every 5s"  # how often the first page of the list asks for what arrived
# Delivery states that may still change: while a reply is in one, its list asks again.
UNSETTLED = {"queued", "sending"}


def _path(item_type: str, number: int) -> str:
    return f"/items/{item_type}/{number}"


@router.get("/")
def home(visit: Signed) -> Response:
    return see_other("/items")


@router.get("/items")
def item_list(visit: Signed, request: Request, status: str = "", step: str = "", assignee: str = "",
              project: str = "", q: str = "", page: int = 1) -> HTMLResponse:
    filters = {"status": status, "step": step, "assignee": assignee, "project": project, "q": q}
    with visit.unit() as session:
        found = items.list_items(session, items.Filters(project=project or None, status=status or None,
                                                        step=step or None, assignee=assignee or None,
                                                        text=q.strip() or None), max(page, 1), PER_PAGE)
        choices = catalog.choices(session)
    pages = max(1, math.ceil(found.total / PER_PAGE))

    def page_url(n: int) -> str:
        return "/items?" + urlencode({k: v for k, v in filters.items() if v} | ({"page": n} if n > 1 else {}))

    values: dict[str, Any] = {"found": found, "filters": filters, "choices": choices, "pages": pages,
              "every": REFRESH, "refresh": page_url(1) if found.page == 1 else None,
              "newer": page_url(found.page - 1) if found.page > 1 else None,
              "older": page_url(found.page + 1) if found.page < pages else None}
    # The filter form and the paging links ask for the table alone.
    name = "_items_table.html" if request.headers.get("HX-Target") == "results" else "items.html"
    return visit.render(name, **values)


def _item_page(visit: Signed, item_type: str, number: int, status: int = 200, errors: dict[str, AppError] | None = None,
               typed: dict[str, Any] | None = None) -> HTMLResponse:
    with visit.unit() as session:
        found = items.find(session, item_type, number)
        details, html_mails = item_details(session, found), mailhtml.html_mails(session, found)
        choices = catalog.choices(session)
    return visit.render("item.html", status, item=details, choices=choices, errors=errors or {}, typed=typed or {},
                        html_mails=html_mails, path=_path(item_type, number), unsettled=UNSETTLED,
                        after=max((m["id"] for m in details["mails"]), default=0), newer=[], every=REFRESH)


@router.get("/items/{item_type}/{number}")
def item_page(visit: Signed, item_type: str, number: int) -> HTMLResponse:
    return _item_page(visit, item_type, number)


@router.get("/items/{item_type}/{number}/news")
def mail_news(visit: Signed, item_type: str, number: int, after: int = 0) -> HTMLResponse:
    """What came in on the item since the page was drawn (mails after ``after``): a notice with a link to
    show them, asked for every few seconds by the item page (the thread itself is not redrawn under
    the person's eyes: the HTML views and the reply being typed stay as they are)."""
    with visit.unit() as session:
        details = item_details(session, items.find(session, item_type, number))
    newer = [m for m in details["mails"] if m["id"] > after and m["direction"] == "in"]
    return visit.render("_mail_news.html", path=_path(item_type, number), after=after, newer=newer, every=REFRESH)


@router.get("/items/{item_type}/{number}/replies")
def reply_list(visit: Signed, item_type: str, number: int) -> HTMLResponse:
    """The replies and their delivery state alone, for the item page to refresh while one is under way."""
    with visit.unit() as session:
        details = item_details(session, items.find(session, item_type, number))
    return visit.render("_replies.html", item=details, path=_path(item_type, number), unsettled=UNSETTLED)


@router.post("/items/{item_type}/{number}/reply")
def reply(visit: Signed, item_type: str, number: int, text: Annotated[str, Form()] = "",
                cc: Annotated[str, Form()] = "", files: Annotated[list[UploadFile] | None, File()] = None) -> Response:
    uploads = [(f.filename or "attachment", f.content_type or "application/octet-stream", f.file.read())
               for f in files or [] if f.filename]
    draft = replies.Draft(text, cc=cc.replace(",", " ").split(), attachments=uploads)
    try:
        with visit.unit() as session:
            replies.reply(session, visit.ctx.store, visit.actor, items.find(session, item_type, number), draft)
    except AppError as exc:
        return _item_page(visit, item_type, number, exc.status, {"reply": exc}, {"text": text, "cc": cc})
    return see_other(_path(item_type, number) + "#replies")


@router.post("/items/{item_type}/{number}/edit")
def edit(visit: Signed, item_type: str, number: int, status: Annotated[str, Form()] = "",
         step: Annotated[str, Form()] = "", assignee: Annotated[str, Form()] = "",
         shown_status: Annotated[str, Form()] = "", shown_step: Annotated[str, Form()] = "",
         shown_assignee: Annotated[str, Form()] = "") -> Response:
    # The form sends every value it shows; only those the person changed are asked for, so entering a
    # step may still set the step's status.
    change = items.Edit(status=status if status != shown_status else None, step=step if step != shown_step else None,
                        assignee=assignee if assignee != shown_assignee else None)
    try:
        with visit.unit() as session:
            items.edit_item(session, visit.actor, items.find(session, item_type, number), change)
    except AppError as exc:
        return _item_page(visit, item_type, number, exc.status, {"edit": exc})
    return see_other(_path(item_type, number))


@router.post("/items/{item_type}/{number}/watchers")
def add_watcher(visit: Signed, item_type: str, number: int, address: Annotated[str, Form()] = "") -> Response:
    try:
        with visit.unit() as session:
            items.add_watcher(session, visit.actor, items.find(session, item_type, number), address)
    except AppError as exc:
        return _item_page(visit, item_type, number, exc.status, {"watchers": exc}, {"address": address})
    return see_other(_path(item_type, number) + "#watchers")


@router.post("/items/{item_type}/{number}/watchers/remove")
def remove_watcher(visit: Signed, item_type: str, number: int, address: Annotated[str, Form()] = "") -> Response:
    with visit.unit() as session:
        items.remove_watcher(session, visit.actor, items.find(session, item_type, number), address)
    return see_other(_path(item_type, number) + "#watchers")


@router.post("/items/{item_type}/{number}/merge")
def merge(visit: Signed, item_type: str, number: int, into: Annotated[str, Form()] = "") -> Response:
    try:
        if not into.strip().lstrip("#").isdigit():
            raise Invalid(f"{into!r} is not an item number", field="into")
        with visit.unit() as session:
            source = items.find(session, item_type, number)
            target = items.find(session, item_type, int(into.strip().lstrip("#")))
            merging.merge(session, visit.actor, source, target)
            where = _path(target.type, target.number)
    except AppError as exc:
        return _item_page(visit, item_type, number, exc.status, {"merge": exc}, {"into": into})
    return see_other(where)


@router.post("/items/{item_type}/{number}/split")
def split(visit: Signed, item_type: str, number: int, mail_id: Annotated[int, Form()]) -> Response:
    try:
        with visit.unit() as session:
            new = merging.split(session, visit.actor, items.find(session, item_type, number), mail_id)
            where = _path(new.type, new.number)
    except AppError as exc:
        return _item_page(visit, item_type, number, exc.status, {"mails": exc})
    return see_other(where)


@router.get("/items/{item_type}/{number}/attachments/{attachment_id}")
def download(visit: Signed, item_type: str, number: int, attachment_id: int) -> Response:
    with visit.unit() as session:
        found = attachments.attachment(session, visit.ctx.store, items.find(session, item_type, number),
                                       attachment_id)
    # As the API's download: never rendered by the browser, its type not sniffed, whatever the sender claimed.
    return Response(found.data, media_type="application/octet-stream", headers={
        "Content-Disposition": attachments.disposition(found.filename), "X-Content-Type-Options": "nosniff",
        "Content-Security-Policy": "default-src 'none'; sandbox"})


@router.get("/items/{item_type}/{number}/mails/{mail_id}/html")
def mail_html(visit: Signed, item_type: str, number: int, mail_id: int, remote: bool = False) -> Response:
    """A mail's sanitized HTML, for the item page's sandboxed frame: its inline images from the item's
    attachments, its remote images only with ``remote``."""
    with visit.unit() as session:
        shown = mailhtml.mail_html(session, visit.ctx.store, items.find(session, item_type, number), mail_id,
                                   remote=remote)
    return HTMLResponse(shown.document, headers=security.mail_frame_headers(shown.shown_remote))
