"""Signing in with an email and a password (the API's rate limit counts these failures too), and out."""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import HTMLResponse, Response

from services.api.deps import Context, context
from services.api.ratelimit import sign_in_keys
from services.app import tokens, users
from services.console import security
from services.console.pages import SIGN_IN, PageRoute, Signed, render, see_other
from shared.db.engine import transaction

router = APIRouter(route_class=PageRoute, include_in_schema=False)
Ctx = Annotated[Context, Depends(context)]
NONCE_SECONDS = 3600


def _form(request: Request, ctx: Context, status: int = 200, message: str = "", email: str = "",
          nonce: str | None = None) -> HTMLResponse:
    nonce = nonce or request.cookies.get(security.SIGN_IN_COOKIE) or security.new_sign_in_nonce()
    response = render(request, "signin.html", status, csrf=security.csrf_token(ctx.settings, nonce),
                      message=message, email=email)
    security.set_cookie(response, ctx.settings, security.SIGN_IN_COOKIE, nonce, NONCE_SECONDS)
    return response


@router.get(SIGN_IN)
def sign_in_page(request: Request, ctx: Ctx) -> Response:
    token = request.cookies.get(security.SESSION_COOKIE)
    if token:
        with transaction(ctx.sessions) as session:
            if tokens.resolve(session, token) is not None:
                return see_other("/")  # signed in already
    return _form(request, ctx)


@router.post(SIGN_IN)
def sign_in(request: Request, ctx: Ctx, email: Annotated[str, Form()] = "",
            password: Annotated[str, Form()] = "") -> Response:
    keys = sign_in_keys(request.client.host if request.client else None, email)
    wait = ctx.limiter.wait_for(*keys)
    if wait > 0:
        refused = _form(request, ctx, 429, "Too many failed sign-ins. Try again later.", email)
        refused.headers["Retry-After"] = str(int(wait) + 1)
        return refused
    with transaction(ctx.sessions) as session:
        who = users.authenticate(session, email, password)
        token = tokens.start_session(session, who, timedelta(hours=ctx.settings.session_hours)) if who else None
    if token is None:
        ctx.limiter.failed(*keys)
        # A new nonce: the token of the failed attempt is not reused.
        return _form(request, ctx, 401, "Wrong email or password.", email, security.new_sign_in_nonce())
    response = see_other("/")
    security.clear_cookie(response, ctx.settings, security.SIGN_IN_COOKIE)
    security.set_cookie(response, ctx.settings, security.SESSION_COOKIE, token,
                        int(ctx.settings.session_hours * 3600))
    return response


@router.post("/sign-out")
def sign_out(visit: Signed) -> Response:
    with visit.unit() as session:
        tokens.end_session(session, visit.request.cookies.get(security.SESSION_COOKIE, ""))
    response = see_other(SIGN_IN)
    security.clear_cookie(response, visit.ctx.settings, security.SESSION_COOKIE)
    return response
