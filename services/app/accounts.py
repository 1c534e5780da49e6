"""Accounts as people see them (never a secret), and turning one on or off."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from services.app.actors import Actor
from services.app.errors import NotFound
from shared.db.models import Account, AccountHealth, utcnow


def _view(account: Account, health: AccountHealth | None) -> dict[str, Any]:
    return {"name": account.name, "kind": account.kind, "address": account.address, "active": account.active,
            "item_type": account.item_type, "project": account.project, "auto_reply": account.auto_reply,
            "has_secrets": account.sealed_secrets is not None,
            "health": None if health is None else {
                k: (v.isoformat() if hasattr(v, "isoformat") else v)
                for k, v in ((c.key, getattr(health, c.key)) for c in AccountHealth.__table__.columns)
                if k != "account" and "secret" not in k}}


def list_accounts(session: Session, actor: Actor) -> list[dict[str, Any]]:
    actor.require_admin("the accounts")
    health = {h.account: h for h in session.scalars(select(AccountHealth))}
    return [_view(a, health.get(a.name)) for a in session.scalars(select(Account).order_by(Account.name))]


def set_active(session: Session, actor: Actor, name: str, active: bool) -> dict[str, Any]:
    actor.require_admin("changing an account")
    account = session.scalar(select(Account).where(Account.name == name))
    if account is None:
        raise NotFound(f"no account {name}")
    account.active = active
    if active:
        wake(session, name)
    return _view(account, session.get(AccountHealth, name))


def wake(session: Session, name: str) -> bool:
    """Try the account again now, after a fix: its back-off ends and its failure streak is cleared, and
    the changed row makes the fetcher restart its reader at the next tick (the scheduler restarts a
    worker whose account row changed). False for an unknown account."""
    account = session.scalar(select(Account).where(Account.name == name))
    if account is None:
        return False
    health = session.get(AccountHealth, name)
    if health is not None:
        health.next_attempt_at, health.consecutive_failures = None, 0
    account.updated_at = utcnow()
    return True
