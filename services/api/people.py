"""Signing in and out, users (admin), API tokens."""

from __future__ import annotations

from dataclasses import asdict
from datetime import timedelta
from typing import Any

from fastapi import APIRouter, HTTPException, Request

from services.api.deps import Admin, Agent, Ctx, UnitOfWork, bearer
from services.api.ratelimit import sign_in_keys
from services.api.schemas import NewToken, NewUser, SignIn
from services.app import tokens, users
from shared.db.models import utcnow

router = APIRouter()


@router.post("/session", summary="Sign in: a bearer token for the session")
def sign_in(body: SignIn, request: Request, ctx: Ctx, session: UnitOfWork) -> dict[str, Any]:
    keys = sign_in_keys(request.client.host if request.client else None, body.email)
    wait = ctx.limiter.wait_for(*keys)
    if wait > 0:
        raise HTTPException(429, "too many failed sign-ins; try again later",
                            headers={"Retry-After": str(int(wait) + 1)})
    who = users.authenticate(session, body.email, body.password)
    if who is None:
        ctx.limiter.failed(*keys)
        raise HTTPException(401, "wrong email or password", headers={"WWW-Authenticate": "Bearer"})
    ttl = timedelta(hours=ctx.settings.session_hours)
    token = tokens.start_session(session, who, ttl)
    return {"token": token, "expires_at": (utcnow() + ttl).isoformat(),
            "user": {"email": who.email, "name": who.name, "role": who.role}}


@router.delete("/session", status_code=204, summary="Sign out: the session's token stops working")
def sign_out(request: Request, who: Agent, session: UnitOfWork) -> None:
    tokens.end_session(session, bearer(request) or "")


@router.get("/me")
def me(who: Agent) -> dict[str, Any]:
    return {"email": who.email, "name": who.name, "role": who.role}


@router.get("/users")
def list_users(who: Admin, session: UnitOfWork) -> list[dict[str, Any]]:
    return [asdict(u) for u in users.list_users(session)]


@router.post("/users", status_code=201)
def add_user(body: NewUser, who: Admin, session: UnitOfWork) -> dict[str, Any]:
    return asdict(users.add_user(session, body.email, name=body.name, role=body.role, password=body.password))


@router.post("/users/{email}/disable")
def disable_user(email: str, who: Admin, session: UnitOfWork) -> dict[str, Any]:
    return asdict(users.disable_user(session, email))


def _token(view: tokens.TokenView) -> dict[str, Any]:
    data = asdict(view)
    return {k: v.isoformat() if hasattr(v, "isoformat") else v for k, v in data.items()}


@router.get("/tokens", summary="API tokens: one's own, or everyone's for an admin")
def list_tokens(who: Agent, session: UnitOfWork, user: str | None = None) -> list[dict[str, Any]]:
    return [_token(t) for t in tokens.list_tokens(session, who, user)]


@router.post("/tokens", status_code=201, summary="A new API token, shown this once")
def create_token(body: NewToken, who: Agent, session: UnitOfWork) -> dict[str, Any]:
    view, secret = tokens.create_token(session, who, body.user or who.email, body.name)
    return _token(view) | {"token": secret}


@router.delete("/tokens/{token_id}")
def revoke_token(token_id: int, who: Agent, session: UnitOfWork) -> dict[str, Any]:
    return _token(tokens.revoke_token(session, who, token_id))
