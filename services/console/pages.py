"""What every console page shares: the templates, the signed-in person behind the session cookie, and
a route class that checks each form's CSRF token, turns refusals into pages and sets the headers."""

from __future__ import annotations

from collections.abc import Callable, Coroutine, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from functools import cache
from typing import Annotated, Any

import jinja2
from fastapi import Depends, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.routing import APIRoute
from sqlalchemy.orm import Session

from services.api.deps import Context, context
from services.app import tokens
from services.app.actors import Actor
from services.app.errors import AppError
from services.console import security
from shared.accounts.progress import progress_text
from shared.db.engine import transaction

SIGN_IN = "/sign-in"
SAFE_METHODS = {"GET", "HEAD", "OPTIONS"}


class SignInNeeded(Exception):
    """No session cookie, or one that no longer stands for anyone."""


def _when(value: str | None) -> str:
    """An ISO timestamp as people read it: to the minute, in UTC."""
    if not value:
        return ""
    try:
        return datetime.fromisoformat(value).strftime("%Y-%m-%d %H:%M UTC")
    except ValueError:
        return value


def _describe(value: Any) -> str:
    """A history detail as a sentence fragment: changes as "field: before → after", items as "type #N",
    lists joined; what the application layer recorded, never interpreted."""
    if isinstance(value, dict) and {"type", "number"} <= value.keys():
        return f"{value['type']} #{value['number']}"
    if isinstance(value, dict) and "field" in value:
        return f"{value['field']}: {value.get('before') or 'none'} → {value.get('after') or 'none'}"
    if isinstance(value, list | tuple):
        return "; ".join(_describe(v) for v in value)
    return "" if value is None else str(value)


def _css_string(value: str) -> str:
    """A CSS string of ``value`` (for an htmx selector naming an element by its id, which may hold any
    character an account's name does)."""
    escaped = value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\a ")
    return f'"{escaped}"'


@cache
def templates() -> jinja2.Environment:
    env = jinja2.Environment(loader=jinja2.PackageLoader("services.console", "templates"),
                             autoescape=True, undefined=jinja2.StrictUndefined, trim_blocks=True, lstrip_blocks=True)
    env.filters["when"] = _when
    env.filters["describe"] = _describe
    env.filters["css_string"] = _css_string
    env.filters["progress"] = progress_text
    return env


def render(request: Request, name: str, status: int = 200, *, actor: Actor | None = None, csrf: str = "",
           **values: Any) -> HTMLResponse:
    page = templates().get_template(name).render(request=request, actor=actor, csrf=csrf,
                                                 csrf_field=security.CSRF_FIELD, **values)
    return HTMLResponse(page, status_code=status)


@dataclass
class Visit:
    """One signed-in request: who, their session's CSRF token, and units of work."""

    request: Request
    ctx: Context
    actor: Actor
    csrf: str

    @contextmanager
    def unit(self) -> Iterator[Session]:
        """One transaction; the relay is woken after a commit so queued mail goes at once."""
        with transaction(self.ctx.sessions) as session:
            yield session
        self.ctx.wake.set()

    def render(self, name: str, status: int = 200, **values: Any) -> HTMLResponse:
        return render(self.request, name, status, actor=self.actor, csrf=self.csrf, **values)


def visit(request: Request, ctx: Annotated[Context, Depends(context)]) -> Visit:
    token = request.cookies.get(security.SESSION_COOKIE)
    if not token:
        raise SignInNeeded
    with transaction(ctx.sessions) as session:
        who = tokens.resolve(session, token)
    if who is None:
        raise SignInNeeded
    found = Visit(request, ctx, who, security.csrf_token(ctx.settings, token))
    request.state.visit = found  # for a refusal page, which keeps the signed-in person's header
    return found


Signed = Annotated[Visit, Depends(visit)]


def see_other(url: str) -> RedirectResponse:
    return RedirectResponse(url, status_code=303)


def _to_sign_in(request: Request) -> Response:
    if request.headers.get("HX-Request"):  # htmx would follow a redirect inside the page: leave the page
        return Response(status_code=204, headers={"HX-Redirect": SIGN_IN})
    return see_other(SIGN_IN)


def _refused(request: Request, status: int, message: str) -> HTMLResponse:
    signed: Visit | None = getattr(request.state, "visit", None)
    if signed is not None:
        return signed.render("error.html", status, status_code=status, message=message)
    return render(request, "error.html", status, status_code=status, message=message)


class PageRoute(APIRoute):
    """Every console route: a form (any method but GET) is refused with 403 unless it carries the
    session's CSRF token, checked before the route runs; a missing session leads to the sign-in page;
    the application layer's refusals become a page, never a stack trace; every answer gets the
    page headers (a route may set a stricter policy of its own)."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def page(request: Request) -> Response:
            settings = context(request).settings
            try:
                if request.method not in SAFE_METHODS and not await security.csrf_ok(request, settings, SIGN_IN):
                    response: Response = _refused(request, 403, "This form has expired or did not come from this "
                                                                "console. Load the page again and retry.")
                else:
                    response = await handler(request)
            except SignInNeeded:
                response = _to_sign_in(request)
            except AppError as exc:
                response = _refused(request, exc.status, exc.message)
            except RequestValidationError as exc:
                first = exc.errors()[0] if exc.errors() else {}
                where = ".".join(str(p) for p in first.get("loc", ()) if p not in ("body", "path", "query"))
                response = _refused(request, 422, f"{where or 'request'}: {first.get('msg', 'invalid')}")
            for name, value in security.PAGE_HEADERS.items():
                response.headers.setdefault(name, value)
            if request.method not in SAFE_METHODS and not 300 <= response.status_code < 400:
                # A form answered with a page (its refusal): the address stays the page's, not the form's.
                response.headers.setdefault("HX-Push-Url", "false")
            return response

        return page
