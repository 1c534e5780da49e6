"""Accounts (admin only): list with health, one account's report, add, edit, copy, delete, activate,
deactivate, refresh (fetch now), the connection test and an IMAP server's folders. Secrets are
write-only: they are taken in an account's fields and never come back, sealed or not."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Body

from services.api.deps import Admin, Ctx, UnitOfWork
from services.api.schemas import AccountCopy, AccountEdit
from services.app import accountchecks, accountedits, accounts
from shared.secrets import SecretBox

router = APIRouter(prefix="/accounts")
# The account as in an accounts file, its secrets (password, client_secret, ...) among its fields.
AccountSpecBody = Annotated[dict[str, Any], Body()]


def _box(ctx: Ctx) -> SecretBox:
    return SecretBox(ctx.settings.resolved_secret_keys)


@router.get("")
def list_accounts(who: Admin, session: UnitOfWork) -> list[dict[str, Any]]:
    return accounts.list_accounts(session, who)


@router.post("", status_code=201)
def add_account(spec: AccountSpecBody, who: Admin, session: UnitOfWork, ctx: Ctx) -> dict[str, Any]:
    notes: list[str] = []
    added = accountedits.add_account(session, who, spec, _box(ctx), notes)
    session.flush()
    return accounts.view(session, who, added.name) | {"warnings": notes}


@router.get("/{name}")
def show_account(name: str, who: Admin, session: UnitOfWork) -> dict[str, Any]:
    return accounts.report(session, who, name)


@router.patch("/{name}")
def edit_account(name: str, body: AccountEdit, who: Admin, session: UnitOfWork, ctx: Ctx) -> dict[str, Any]:
    notes: list[str] = []
    changes = accountedits.edit_account(session, who, name, body.set, _box(ctx), tuple(body.unset), notes=notes)
    return accounts.view(session, who, name) | {"changes": changes, "warnings": notes}


@router.post("/{name}/copy", status_code=201)
def copy_account(name: str, body: AccountCopy, who: Admin, session: UnitOfWork, ctx: Ctx) -> dict[str, Any]:
    copied = accountedits.copy_account(session, who, name, body.name, _box(ctx), body.address)
    session.flush()
    return accounts.view(session, who, copied.name)


@router.delete("/{name}")
def delete_account(name: str, who: Admin, session: UnitOfWork) -> dict[str, Any]:
    return {"name": name, "removed": accountedits.delete_account(session, who, name)}


@router.post("/{name}/activate")
def activate(name: str, who: Admin, session: UnitOfWork) -> dict[str, Any]:
    return accounts.set_active(session, who, name, True)


@router.post("/{name}/deactivate")
def deactivate(name: str, who: Admin, session: UnitOfWork) -> dict[str, Any]:
    return accounts.set_active(session, who, name, False)


@router.post("/{name}/refresh")
def refresh(name: str, who: Admin, session: UnitOfWork) -> dict[str, Any]:
    """Fetch now: the back-off ends and the fetcher's reader starts again."""
    return accounts.refresh(session, who, name)


# The mailbox is asked outside the request's transaction (it may take the network's time).
@router.post("/{name}/test")
def test_account(name: str, who: Admin, session: UnitOfWork, ctx: Ctx) -> dict[str, Any]:
    session.commit()
    return accountchecks.probe_account(ctx.sessions, who, name, _box(ctx))


@router.get("/{name}/folders")
def folders(name: str, who: Admin, session: UnitOfWork, ctx: Ctx) -> dict[str, Any]:
    session.commit()
    return {"name": name, "folders": accountchecks.folders(ctx.sessions, who, name, _box(ctx))}
