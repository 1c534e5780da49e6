"""People who sign in: add, list, disable, set a password, authenticate. Passwords are kept only as
argon2id hashes (argon2-cffi's defaults, RFC 9106's second recommended option)."""

from __future__ import annotations

from dataclasses import dataclass

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import select
from sqlalchemy.orm import Session

from services.app.actors import ROLES, Actor
from services.app.errors import Conflict, Invalid, NotFound
from shared.db.models import ApiToken, User, utcnow

_HASHER = PasswordHasher()
# Verified against when the address is unknown, so a wrong address costs as long as a wrong password.
_DUMMY_HASH = _HASHER.hash("postroom: no such user")
MIN_PASSWORD = 12


@dataclass(frozen=True)
class UserView:
    id: int
    email: str
    name: str
    role: str
    active: bool
    can_sign_in: bool


def _view(user: User) -> UserView:
    return UserView(user.id, user.email, user.name, user.role, user.active, user.password_hash is not None)


def _check_password(password: str) -> None:
    if len(password) < MIN_PASSWORD:
        raise Invalid(f"the password has {len(password)} characters; use at least {MIN_PASSWORD}", field="password")


def add_user(session: Session, email: str, *, name: str = "", role: str = "agent",
             password: str | None = None) -> UserView:
    """A new user, or an existing one (declared by ``config apply`` without a sign-in) given a role and a
    password."""
    email = email.strip().lower()
    if "@" not in email:
        raise Invalid(f"{email!r} is not an email address", field="email")
    if role not in ROLES:
        raise Invalid(f"role {role!r}: use one of {', '.join(ROLES)}", field="role")
    if password is not None:
        _check_password(password)
    user = session.scalar(select(User).where(User.email == email))
    if user is not None and user.password_hash is not None:
        raise Conflict(f"user {email} already exists")
    if user is None:
        user = User(email=email, name=name)
        session.add(user)
    user.name = name or user.name
    user.role, user.active = role, True
    user.password_hash = _HASHER.hash(password) if password is not None else None
    session.flush()
    return _view(user)


def list_users(session: Session) -> list[UserView]:
    return [_view(u) for u in session.scalars(select(User).order_by(User.email))]


def find_user(session: Session, email: str) -> User:
    user = session.scalar(select(User).where(User.email == email.strip().lower()))
    if user is None:
        raise NotFound(f"no user {email}")
    return user


def disable_user(session: Session, email: str) -> UserView:
    """The user can no longer sign in, and every token and session of theirs stops working."""
    user = find_user(session, email)
    user.active = False
    now = utcnow()
    for token in session.scalars(select(ApiToken).where(ApiToken.user_id == user.id, ApiToken.revoked_at.is_(None))):
        token.revoked_at = now
    session.flush()
    return _view(user)


def set_password(session: Session, email: str, password: str) -> None:
    _check_password(password)
    find_user(session, email).password_hash = _HASHER.hash(password)


def authenticate(session: Session, email: str, password: str) -> Actor | None:
    """The actor, or None for a wrong address, a wrong password or a disabled user alike."""
    user = session.scalar(select(User).where(User.email == email.strip().lower()))
    stored = user.password_hash if user is not None and user.active and user.password_hash else None
    try:
        _HASHER.verify(stored or _DUMMY_HASH, password)
    except (VerificationError, InvalidHashError):
        return None
    if user is None or stored is None:
        return None
    if _HASHER.check_needs_rehash(stored):
        user.password_hash = _HASHER.hash(password)
    return actor_of(user)


def actor_of(user: User) -> Actor:
    return Actor(user.id, user.email, user.name, user.role)
