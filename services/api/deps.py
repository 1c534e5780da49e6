"""What a request needs: a unit of work, the actor behind its token, the blob store. After a commit
that queued messages for the pipeline, the relay is woken to publish them at once."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, HTTPException, Request
from sqlalchemy.orm import Session, sessionmaker

from services.api.ratelimit import SignInLimiter
from services.api.settings import ApiSettings
from services.app import tokens
from services.app.actors import Actor
from services.app.deadletters import DeadLetters
from shared.db.engine import transaction
from shared.store import BlobStore
from shared.tokens import ItemTokens


@dataclass
class Context:
    settings: ApiSettings
    sessions: sessionmaker[Session]
    store: BlobStore
    limiter: SignInLimiter
    wake: threading.Event  # the relay's
    dead_letters: DeadLetters

    @property
    def tokens(self) -> ItemTokens:
        """The pipeline's item tokens, for a preview of what it would do to a mail."""
        return self.settings.item_tokens()


def context(request: Request) -> Context:
    ctx: Context = request.app.state.ctx
    return ctx


def unit_of_work(ctx: Annotated[Context, Depends(context)]) -> Iterator[Session]:
    with transaction(ctx.sessions) as session:
        yield session
    ctx.wake.set()


UNAUTHORIZED = HTTPException(401, "sign in, or send a valid API token as 'Authorization: Bearer <token>'",
                             headers={"WWW-Authenticate": "Bearer"})


def bearer(request: Request) -> str | None:
    header = request.headers.get("authorization", "")
    scheme, _, value = header.partition(" ")
    return value.strip() if scheme.lower() == "bearer" and value.strip() else None


def actor(request: Request, session: Annotated[Session, Depends(unit_of_work)]) -> Actor:
    """The same 401 for a missing, malformed, unknown, expired or revoked token."""
    token = bearer(request)
    found = tokens.resolve(session, token) if token else None
    if found is None:
        raise UNAUTHORIZED
    return found


def admin(who: Annotated[Actor, Depends(actor)]) -> Actor:
    who.require_admin("this")
    return who


def admin_apart(request: Request, ctx: Annotated[Context, Depends(context)]) -> Actor:
    """``admin``, the token checked in a transaction of its own, committed before the route runs: for
    a route that opens its own sessions (a preview), which SQLite's one writer would otherwise
    keep waiting on the request's transaction."""
    token = bearer(request)
    with transaction(ctx.sessions) as session:
        found = tokens.resolve(session, token) if token else None
    if found is None:
        raise UNAUTHORIZED
    found.require_admin("this")
    return found


UnitOfWork = Annotated[Session, Depends(unit_of_work)]
Agent = Annotated[Actor, Depends(actor)]  # any signed-in person: agents and admins work items
Admin = Annotated[Actor, Depends(admin)]
AdminApart = Annotated[Actor, Depends(admin_apart)]
Ctx = Annotated[Context, Depends(context)]
