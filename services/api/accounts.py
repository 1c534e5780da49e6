"""Accounts (admin only): list with health, activate, deactivate."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from services.api.deps import Admin, UnitOfWork
from services.app import accounts

router = APIRouter(prefix="/accounts")


@router.get("")
def list_accounts(who: Admin, session: UnitOfWork) -> list[dict[str, Any]]:
    return accounts.list_accounts(session, who)


@router.post("/{name}/activate")
def activate(name: str, who: Admin, session: UnitOfWork) -> dict[str, Any]:
    return accounts.set_active(session, who, name, True)


@router.post("/{name}/deactivate")
def deactivate(name: str, who: Admin, session: UnitOfWork) -> dict[str, Any]:
    return accounts.set_active(session, who, name, False)
