"""What happened to a mail and the mail not sent yet (agents), and the dead letters (admins); held mail
is in ``held.py``."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from services.api.deps import Admin, AdminApart, Agent, Ctx, UnitOfWork
from services.app import pending_sends, preview, traces

router = APIRouter()


@router.get("/mails/{mail_id}/trace", summary="Fetched, parsed, placed, and the mail sent because of it")
def trace(mail_id: int, who: Agent, session: UnitOfWork) -> dict[str, Any]:
    return traces.mail_trace(session, mail_id)


@router.get("/outbox", summary="Mail not sent yet, oldest first (or failed, newest first: status=failed): item, "
                               "recipient, attempts, first and next attempt, last error")
def outbox(who: Agent, session: UnitOfWork, account: str | None = None,
           limit: int = pending_sends.DEFAULT_LIMIT, status: str = "pending") -> dict[str, Any]:
    return pending_sends.pending_sends(session, who, account, limit, status)


@router.get("/dead-letters", summary="Every dead letter: id, stage, attempts, when, why")
def list_dead_letters(who: Admin, ctx: Ctx, stage: str | None = None, limit: int | None = None) -> list[dict[str, Any]]:
    return ctx.dead_letters.letters(who, stage, limit)


@router.get("/dead-letters/{ident}")
def show_dead_letter(ident: str, who: Admin, ctx: Ctx, stage: str | None = None) -> dict[str, Any]:
    return ctx.dead_letters.show(who, ident, stage)[0]


@router.get("/dead-letters/{ident}/preview", summary="What a replay would do to the letter's mail; changes nothing")
def preview_dead_letter(ident: str, who: AdminApart, ctx: Ctx, stage: str | None = None) -> dict[str, Any]:
    tokens = ctx.tokens
    return ctx.dead_letters.preview(
        who, ident, stage, lambda fetched: preview.would_happen(ctx.sessions, ctx.store, tokens, fetched))


@router.post("/dead-letters/{ident}/replay", summary="Back to the consumer that failed, with a fresh attempt count")
def replay(ident: str, who: Admin, ctx: Ctx, stage: str | None = None) -> dict[str, Any]:
    [(letter, queue)] = ctx.dead_letters.replay(who, ident, stage)
    return {"replayed": letter, "queue": queue}


@router.delete("/dead-letters/{ident}", summary="Remove one dead letter for good (its raw mail stays stored)")
def discard(ident: str, who: Admin, ctx: Ctx, stage: str | None = None) -> dict[str, Any]:
    return {"discarded": ctx.dead_letters.discard(who, ident, stage)}
