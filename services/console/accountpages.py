"""The accounts page (admin only, as in the application layer): each account with its health, turning
it on or off, and the links to add one and to change each (accountformpages.py)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from fastapi.responses import HTMLResponse, Response

from services.app import accounts
from services.app.accountproviders import providers
from services.app.errors import Conflict
from services.console.pages import PageRoute, Signed, Visit, see_other

router = APIRouter(route_class=PageRoute, include_in_schema=False)


def list_page(visit: Visit, status: int = 200, **values: Any) -> HTMLResponse:
    """The list; ``problem``: a refusal to show above it, ``notes``: what a change could not check."""
    with visit.unit() as session:
        found = accounts.list_accounts(session, visit.actor)
    return visit.render("accounts.html", status, accounts=found, editable=[p.kind for p in providers()],
                        problem=values.get("problem", ""), notes=values.get("notes", []))


@router.get("/accounts")
def account_list(visit: Signed) -> HTMLResponse:
    return list_page(visit)


def _set_active(visit: Signed, name: str, active: bool) -> Response:
    try:
        with visit.unit() as session:
            accounts.set_active(session, visit.actor, name, active)
    except Conflict as exc:  # not signed in yet, or its mailbox is read by another account
        return list_page(visit, exc.status, problem=exc.message)
    return see_other("/accounts")


@router.post("/accounts/{name}/activate")
def activate(visit: Signed, name: str) -> Response:
    return _set_active(visit, name, True)


@router.post("/accounts/{name}/deactivate")
def deactivate(visit: Signed, name: str) -> Response:
    return _set_active(visit, name, False)
