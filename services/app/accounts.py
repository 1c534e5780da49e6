"""Accounts as people see them (never a secret), and turning one on or off."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from services.app.actors import Actor
from services.app.errors import NotFound
from shared.db.models import Account, AccountHealth


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
    return _view(account, session.get(AccountHealth, name))
