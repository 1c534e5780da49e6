"""Bearer tokens: API tokens for scripts (shown once, revocable) and the sessions a sign-in opens.
A token is 32 random bytes; only its SHA-256 is stored (a slow hash adds nothing to a random secret
of that size, and every request looks one up)."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from services.app.actors import Actor
from services.app.errors import Forbidden, NotFound
from services.app.users import actor_of, find_user
from shared.db.models import ApiToken, User, as_utc, utcnow

PREFIX = "prt_"


@dataclass(frozen=True)
class TokenView:
    id: int
    user: str
    kind: str
    name: str
    created_at: datetime
    expires_at: datetime | None
    last_used_at: datetime | None
    revoked: bool


def digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _issue(session: Session, user: User, kind: str, name: str, expires_at: datetime | None) -> tuple[ApiToken, str]:
    secret = PREFIX + secrets.token_urlsafe(32)
    row = ApiToken(user_id=user.id, kind=kind, name=name, digest=digest(secret), expires_at=expires_at)
    session.add(row)
    session.flush()
    return row, secret


def create_token(session: Session, actor: Actor, email: str, name: str) -> tuple[TokenView, str]:
    """A new API token for ``email``; the secret is returned once and never again."""
    if email.strip().lower() != actor.email:
        actor.require_admin("a token for someone else")
    user = find_user(session, email)
    row, secret = _issue(session, user, "api", name, None)
    return _view(row, user.email), secret


def start_session(session: Session, actor: Actor, ttl: timedelta) -> str:
    user = session.get_one(User, actor.user_id)
    return _issue(session, user, "session", "sign-in", utcnow() + ttl)[1]


def end_session(session: Session, token: str) -> None:
    row = session.scalar(select(ApiToken).where(ApiToken.digest == digest(token)))
    if row is not None and row.revoked_at is None:
        row.revoked_at = utcnow()


def resolve(session: Session, token: str) -> Actor | None:
    """The actor a presented token stands for, or None (unknown, revoked, expired, user disabled)."""
    if not token.startswith(PREFIX):
        return None
    found = session.execute(select(ApiToken, User).join(User, User.id == ApiToken.user_id)
                            .where(ApiToken.digest == digest(token))).first()
    if found is None:
        return None
    row, user = found
    now = utcnow()
    expires = as_utc(row.expires_at)
    if row.revoked_at is not None or not user.active or (expires is not None and expires <= now):
        return None
    last = as_utc(row.last_used_at)
    if last is None or now - last > timedelta(minutes=1):  # one write a minute, not one per request
        row.last_used_at = now
    return actor_of(user)


def list_tokens(session: Session, actor: Actor, email: str | None = None) -> list[TokenView]:
    """API tokens (not sign-in sessions): one's own, or everyone's for an admin."""
    query = select(ApiToken, User.email).join(User, User.id == ApiToken.user_id).where(ApiToken.kind == "api")
    if email is not None or not actor.is_admin:
        query = query.where(User.email == (email or actor.email).strip().lower())
        if (email or actor.email).strip().lower() != actor.email:
            actor.require_admin("someone else's tokens")
    return [_view(row, owner) for row, owner in session.execute(query.order_by(ApiToken.id))]


def revoke_token(session: Session, actor: Actor, token_id: int) -> TokenView:
    found = session.execute(select(ApiToken, User.email).join(User, User.id == ApiToken.user_id)
                            .where(ApiToken.id == token_id, ApiToken.kind == "api")).first()
    if found is None:
        raise NotFound(f"no API token {token_id}")
    row, owner = found
    if owner != actor.email and not actor.is_admin:
        raise Forbidden("revoking someone else's token needs the admin role")
    row.revoked_at = row.revoked_at or utcnow()
    return _view(row, owner)


def _view(row: ApiToken, owner: str) -> TokenView:
    return TokenView(row.id, owner, row.kind, row.name, row.created_at, row.expires_at, row.last_used_at,
                     row.revoked_at is not None)
