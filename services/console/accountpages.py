"""The accounts page (admin only, as in the application layer): each account with its health, and
turning it on or off."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import HTMLResponse, Response

from services.app import accounts
from services.app.errors import Conflict
from services.console.pages import PageRoute, Signed, see_other

router = APIRouter(route_class=PageRoute, include_in_schema=False)


@router.get("/accounts")
def account_list(visit: Signed) -> HTMLResponse:
    with visit.unit() as session:
        found = accounts.list_accounts(session, visit.actor)
    return visit.render("accounts.html", accounts=found)


def _set_active(visit: Signed, name: str, active: bool) -> Response:
    try:
        with visit.unit() as session:
            accounts.set_active(session, visit.actor, name, active)
    except Conflict as exc:  # not signed in yet, or its mailbox is read by another account
        with visit.unit() as session:
            found = accounts.list_accounts(session, visit.actor)
        return visit.render("accounts.html", exc.status, accounts=found, problem=exc.message)
    return see_other("/accounts")


@router.post("/accounts/{name}/activate")
def activate(visit: Signed, name: str) -> Response:
    return _set_active(visit, name, True)


@router.post("/accounts/{name}/deactivate")
def deactivate(visit: Signed, name: str) -> Response:
    return _set_active(visit, name, False)
