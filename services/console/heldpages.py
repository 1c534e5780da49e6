"""The held mail pages (admins): the mail the rules held back instead of making an item, each one's
facts, headers and why it was held; a preview of what a release would do now (the pipeline's own
code, rolled back), then Release; and Discard.

The application layer's ``services/app/held.py`` does the work, as for the CLI (``postroom held``)
and the API (``/api/v1/operations/held``). Each form runs one of its functions in its own unit of
work and redirects back with what was done (post/redirect/get)."""

from __future__ import annotations

from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Form
from fastapi.responses import HTMLResponse, Response

from services.app import held
from services.console.pages import PageRoute, Signed, see_other

router = APIRouter(route_class=PageRoute, include_in_schema=False)
BASE = "/operations/held"
PER_PAGE = 50


def _done(path: str, what: str) -> Response:
    return see_other(f"{path}?{urlencode({'done': what})}")


@router.get(BASE)
def held_list(visit: Signed, state: str = "held", rule: str = "", account: str = "", page: int = 1,
              done: str = "") -> HTMLResponse:
    page = max(page, 1)
    with visit.unit() as session:
        found = held.held_mails(session, visit.actor, account=account or None, rule=rule or None, state=state,
                                limit=PER_PAGE, offset=(page - 1) * PER_PAGE)
    filters = {"state": state, "rule": rule, "account": account}

    def page_url(n: int) -> str:
        return f"{BASE}?" + urlencode({k: v for k, v in filters.items() if v} | {"page": n})

    return visit.render("heldlist.html", found=found, filters=filters, rules=held.RULES, states=held.STATES,
                        newer=page_url(page - 1) if page > 1 else None,
                        older=page_url(page + 1) if page * PER_PAGE < found["total"] else None,
                        done=done, section="held")


def _held_page(visit: Signed, held_id: int, preview: dict[str, Any] | None = None) -> HTMLResponse:
    with visit.unit() as session:
        info = held.show(session, visit.actor, visit.ctx.store, held_id)
    return visit.render("held.html", mail=info, preview=preview, section="held")


@router.get(f"{BASE}/{{held_id}}")
def held_page(visit: Signed, held_id: int) -> HTMLResponse:
    return _held_page(visit, held_id)


@router.get(f"{BASE}/{{held_id}}/preview")
def preview(visit: Signed, held_id: int, override: bool = False) -> HTMLResponse:
    """The held mail's page with what a release would do now; nothing is written."""
    ctx = visit.ctx
    result = held.preview(ctx.sessions, ctx.store, ctx.tokens, visit.actor, held_id, override=override)
    return _held_page(visit, held_id, result)


@router.post(f"{BASE}/{{held_id}}/release")
def release(visit: Signed, held_id: int, override: Annotated[bool, Form()] = False) -> Response:
    with visit.unit() as session:
        done = held.release(session, visit.actor, held_id, override=override)
    aside = f" with the rule {done['rule']} set aside" if done["override"] else ""
    return _done(BASE, f"held mail {held_id} released{aside}: it goes through the pipeline again")


@router.post(f"{BASE}/{{held_id}}/discard")
def discard(visit: Signed, held_id: int) -> Response:
    with visit.unit() as session:
        held.discard(session, visit.actor, held_id)
    return _done(BASE, f"held mail {held_id} discarded (its raw mail stays stored)")
