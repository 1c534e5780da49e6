"""Mail the rules held back (admins): list, show, preview, release, discard."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from services.api.deps import Admin, AdminApart, Ctx, UnitOfWork
from services.api.schemas import ReleaseIn
from services.app import held

router = APIRouter(prefix="/operations/held")


@router.get("", summary="Held mail, newest first, with the rule that held each and why")
def list_held(who: Admin, session: UnitOfWork, account: str | None = None, rule: str | None = None,
              state: str = "held", limit: int = 50, offset: int = 0) -> dict[str, Any]:
    return held.held_mails(session, who, account=account, rule=rule, state=state, limit=limit, offset=offset)


@router.get("/{held_id}", summary="One held mail: why, its headers, its trace")
def show_held(held_id: int, who: Admin, session: UnitOfWork, ctx: Ctx) -> dict[str, Any]:
    return held.show(session, who, ctx.store, held_id)


@router.get("/{held_id}/preview", summary="What a release would do now, with the current rules; changes nothing")
def preview_held(held_id: int, who: AdminApart, ctx: Ctx, override: bool = False) -> dict[str, Any]:
    return held.preview(ctx.sessions, ctx.store, ctx.tokens, who, held_id, override=override)


@router.post("/{held_id}/release", summary="Process the mail again (override: with its rule set aside)")
def release_held(held_id: int, who: Admin, session: UnitOfWork, body: ReleaseIn | None = None) -> dict[str, Any]:
    return held.release(session, who, held_id, override=body.override if body else False)


@router.delete("/{held_id}", summary="Delete the record for good (its raw mail stays stored)")
def discard_held(held_id: int, who: Admin, session: UnitOfWork) -> dict[str, Any]:
    return held.discard(session, who, held_id)
