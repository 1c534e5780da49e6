"""The accounts page (admin only, as in the application layer): each account with its health, and per
row Activate / Deactivate, Refresh (fetch now), Copy (asks the new name) and Delete (after a page that
says what goes and what stays); the links to Add and Edit (accountformpages.py).

Each form runs one function of ``services/app`` in its own unit of work, then redirects to the list
with what was done (post/redirect/get). The row's buttons also post through htmx, which follows the
redirect and swaps that row alone out of the page it gets (``swaps_row`` in macros.html); a refusal
is the list again, the reason in the row."""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Form
from fastapi.responses import HTMLResponse, Response
from sqlalchemy.orm import Session

from services.app import accountedits, accounts
from services.app.accountproviders import providers
from services.app.errors import Conflict, Invalid
from services.console.pages import PageRoute, Signed, Visit, see_other
from shared.secrets import SecretBox

router = APIRouter(route_class=PageRoute, include_in_schema=False)
# What the row of the account says once an action is done. The list's address names the action, never
# the words, so a link from elsewhere cannot put text of its own on the page.
DONE = {"activated": "activated", "deactivated": "deactivated",
        "refreshed": "refresh asked: the fetcher reads it again at its next tick (within seconds)",
        "copied": "copied: inactive until activated", "added": "added", "saved": "saved",
        "deleted": "deleted with its fetch state; its items and mails stay"}


def _box(visit: Visit) -> SecretBox:
    return SecretBox(visit.ctx.settings.resolved_secret_keys)


def list_page(visit: Visit, status: int = 200, notice: dict[str, Any] | None = None,
              notes: list[str] | None = None) -> HTMLResponse:
    """The list; ``notice``: what was done to a row, or why not; ``notes``: what a saved change could
    not check. Edit is offered for the kinds a form is for."""
    with visit.unit() as session:
        found = accounts.list_accounts(session, visit.actor)
    return visit.render("accounts.html", status, accounts=found, notice=notice, notes=notes or [],
                        editable=[p.kind for p in providers()])


def done(name: str, what: str) -> Response:
    return see_other("/accounts?" + urlencode({"done": what, "account": name}))


@router.get("/accounts")
def accountlist_page(visit: Signed, done: str = "", account: str = "") -> HTMLResponse:
    notice = {"account": account, "text": DONE[done], "error": False} if done in DONE and account else None
    return list_page(visit, notice=notice)


def _in_row(visit: Visit, name: str, what: str, action: Callable[[Session], Any]) -> Response:
    """Run ``action``; refused (not signed in yet, a second reader of a mailbox, inactive), the list
    with the reason in the account's row."""
    try:
        with visit.unit() as session:
            action(session)
    except Conflict as exc:
        return list_page(visit, exc.status, {"account": name, "text": exc.message, "error": True})
    return done(name, what)


@router.post("/accounts/{name}/activate")
def activate(visit: Signed, name: str) -> Response:
    return _in_row(visit, name, "activated", lambda s: accounts.set_active(s, visit.actor, name, True))


@router.post("/accounts/{name}/deactivate")
def deactivate(visit: Signed, name: str) -> Response:
    return _in_row(visit, name, "deactivated", lambda s: accounts.set_active(s, visit.actor, name, False))


@router.post("/accounts/{name}/refresh")
def refresh(visit: Signed, name: str) -> Response:
    return _in_row(visit, name, "refreshed", lambda s: accounts.refresh(s, visit.actor, name))


def _copy_page(visit: Visit, name: str, values: dict[str, str], errors: dict[str, str] | None = None,
               status: int = 200) -> HTMLResponse:
    with visit.unit() as session:
        source = accounts.view(session, visit.actor, name)
    return visit.render("account_copy.html", status, account=source, values=values,
                        errors={"name": "", "address": ""} | (errors or {}))


@router.get("/accounts/{name}/copy")
def copy_form(visit: Signed, name: str) -> HTMLResponse:
    return _copy_page(visit, name, {"name": "", "address": ""})


@router.post("/accounts/{name}/copy")
def copy(visit: Signed, name: str, new: Annotated[str, Form(alias="name")] = "",
         address: Annotated[str, Form()] = "") -> Response:
    """The copy through the application layer: its settings and sealed secrets, inactive; a refusal
    next to the field it is about (the name, unless it names the address)."""
    try:
        with visit.unit() as session:
            copied = accountedits.copy_account(session, visit.actor, name, new, _box(visit), address.strip() or None)
    except (Conflict, Invalid) as exc:
        where = "address" if exc.field == "address" else "name"
        return _copy_page(visit, name, {"name": new, "address": address}, {where: exc.message}, exc.status)
    return done(copied.name, "copied")


def _delete_page(visit: Visit, name: str, problem: str = "", status: int = 200) -> HTMLResponse:
    plan = None
    try:
        with visit.unit() as session:
            plan = accountedits.deletion(session, visit.actor, name)
    except Conflict as exc:  # a fetcher reads it now: the page says how to stop it first
        problem, status = problem or exc.message, exc.status
    return visit.render("account_delete.html", status, account_name=name, plan=plan, problem=problem)


@router.get("/accounts/{name}/delete")
def delete_form(visit: Signed, name: str) -> HTMLResponse:
    return _delete_page(visit, name)


@router.post("/accounts/{name}/delete")
def delete(visit: Signed, name: str) -> Response:
    try:
        with visit.unit() as session:
            accountedits.delete_account(session, visit.actor, name)
    except Conflict as exc:
        return _delete_page(visit, name, exc.message, exc.status)
    return done(name, "deleted")
