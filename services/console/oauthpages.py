"""Signing an OAuth account in from the console (admin only): "Sign in with Microsoft / Google" sends
the browser to the provider (authorization code flow with PKCE), and the provider sends it back to
``/oauth/callback``, which exchanges the code and stores the tokens (services/app/oauthsignin.py).

The session cookie is ``SameSite=Strict``, so the browser leaves it off the provider's redirect back
(a request another site started). What the callback needs travels instead in a short-lived cookie
of its own, ``SameSite=Lax`` (sent on that top-level GET), sent to the callback's path only and
sealed with the secret key: the flow (its state and PKCE verifier) and the session that started it.
The callback opens it, checks the session still stands for an admin and the state is this
sign-in's, and answers with the page itself; the cookie is cleared by whatever it answers."""

from __future__ import annotations

import re
import time
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from services.api.deps import Context, context
from services.app import oauthsignin, tokens
from services.app.errors import AppError, Invalid
from services.console import security
from services.console.pages import PageRoute, SignInNeeded, Signed, Visit, render, see_other
from shared.db.engine import transaction
from shared.secrets import SecretBox, SecretsUnavailable

router = APIRouter(route_class=PageRoute, include_in_schema=False)
CALLBACK = "/oauth/callback"
FLOW_COOKIE = "postroom_oauth"
FLOW_SECONDS = 600  # the person has this long to consent
_ORIGIN = re.compile(r"^https?://[A-Za-z0-9.\-]+(:[0-9]+)?$")


def callback_url(ctx: Context) -> str:
    """The redirect address to register with the provider: the console's public address."""
    return ctx.settings.url.rstrip("/") + CALLBACK


def _box(ctx: Context) -> SecretBox:
    return SecretBox(ctx.settings.resolved_secret_keys)


def _page(visit: Visit, name: str, status: int = 200, **values: Any) -> HTMLResponse:
    state = oauthsignin.sign_in_state(visit.ctx.sessions, visit.actor, _box(visit.ctx), name)
    response = visit.render("oauth_signin.html", status, s=state, redirect_uri=callback_url(visit.ctx),
                            done=values.get("done"), problem=values.get("problem"))
    origin = state["authorize_origin"]
    if origin and _ORIGIN.match(origin):
        # The form's answer redirects to the provider: form-action covers redirects after a submit.
        response.headers["Content-Security-Policy"] = security.CSP.replace(
            "form-action 'self'", f"form-action 'self' {origin}")
    return response


@router.get("/accounts/{name}/sign-in")
def sign_in_page(visit: Signed, name: str) -> HTMLResponse:
    return _page(visit, name)


@router.post("/accounts/{name}/sign-in")
def start_sign_in(visit: Signed, name: str) -> Response:
    box = _box(visit.ctx)
    try:
        url, kept = oauthsignin.start(visit.ctx.sessions, visit.actor, box, name, callback_url(visit.ctx))
        sealed = box.seal({"session": visit.request.cookies[security.SESSION_COOKIE],
                           "until": time.time() + FLOW_SECONDS, "kept": kept})
    except SecretsUnavailable as exc:
        return _page(visit, name, 409, problem=str(exc))
    except AppError as exc:
        return _page(visit, name, exc.status, problem=exc.message)
    response = see_other(url)
    response.set_cookie(FLOW_COOKIE, sealed or "", max_age=FLOW_SECONDS, path=CALLBACK, httponly=True,
                        samesite="lax", secure=visit.ctx.settings.secure_cookie)
    return response


def _opened(request: Request, ctx: Context) -> dict[str, Any]:
    """The sign-in this browser started, or a refusal saying to start again."""
    again = "start it again from the account's sign-in page"
    try:
        flow = _box(ctx).open(request.cookies.get(FLOW_COOKIE))
    except SecretsUnavailable:
        flow = {}
    if not flow or "kept" not in flow:
        raise Invalid(f"No sign-in was started in this browser, or it was already finished: {again}.")
    if float(flow.get("until", 0)) < time.time():
        raise Invalid(f"This sign-in took longer than {FLOW_SECONDS // 60} minutes: {again}.")
    return flow


def _visit_of(request: Request, ctx: Context, session_token: str) -> Visit:
    """The person whose session started the sign-in; it must still stand (not signed out, not expired)."""
    present = request.cookies.get(security.SESSION_COOKIE)
    if present and present != session_token:  # another person signed in on this browser since
        raise Invalid("This sign-in was started by another session of this browser: start it again.")
    with transaction(ctx.sessions) as session:
        who = tokens.resolve(session, session_token)
    if who is None:
        raise SignInNeeded
    found = Visit(request, ctx, who, security.csrf_token(ctx.settings, session_token))
    request.state.visit = found
    return found


@router.get(CALLBACK)
def callback(request: Request) -> Response:
    ctx = context(request)
    try:
        flow = _opened(request, ctx)
        visit = _visit_of(request, ctx, str(flow["session"]))
        name = str(flow["kept"]["account"])
        try:
            done = oauthsignin.finish(ctx.sessions, visit.actor, _box(ctx), flow["kept"], dict(request.query_params))
            response: Response = _page(visit, name, done=done)
        except AppError as exc:
            response = _page(visit, name, exc.status, problem=exc.message)
    except SignInNeeded:
        response = see_other("/sign-in")
    except AppError as exc:  # no sign-in of this browser's to finish
        response = render(request, "error.html", exc.status, status_code=exc.status, message=exc.message)
    response.delete_cookie(FLOW_COOKIE, path=CALLBACK, httponly=True, samesite="lax",
                           secure=ctx.settings.secure_cookie)
    return response
