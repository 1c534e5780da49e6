"""What would happen to a mail processed again with the current rules: a held mail before its
release, a dead letter before its replay. The answer is ``postroom simulate``'s (the parser's and
the itemwriter's own code in a transaction that is rolled back), so it cannot drift from what the
pipeline does; this module is the one place the application layer reaches it."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from pydantic import ValidationError
from sqlalchemy import select

from sqlalchemy.orm import Session, sessionmaker

from services.app.errors import NotFound
from shared.contracts import MailFetched
from shared.db.models import Account
from shared.errors import Reject
from shared.store import BlobNotFound, BlobStore
from shared.tokens import ItemTokens


def would_happen(sessions: sessionmaker[Session], store: BlobStore, tokens: ItemTokens, fetched: MailFetched,
                 prepare: Callable[[Session], None] | None = None) -> dict[str, Any]:
    """``simulate``'s answer for ``fetched`` (``change``: created, appended, duplicate, held, or
    refused when the pipeline would dead-letter it), with a one-line ``summary``; nothing is written."""
    from services.app.simulation import simulate

    try:
        raw = store.get(fetched.raw.key)
    except BlobNotFound:
        raise NotFound(f"the raw mail {fetched.raw.key} is no longer in the blob store") from None
    with sessions() as session:
        known = session.scalar(select(Account.id).where(Account.name == fetched.account)) is not None
    if not known:
        return _refused(f"unknown account {fetched.account!r}: apply it with 'postroom accounts apply'")
    try:
        result = simulate(sessions, raw, fetched.account, tokens, set(), fetched=fetched, prepare=prepare)
    except Reject as exc:
        return _refused(str(exc))
    return {**result, "summary": summary(result)}


def fetched_of_letter(letter_type: str | None, payload: dict[str, Any]) -> MailFetched | None:
    """The mail a dead letter carries, as it entered the pipeline: a ``mail.fetched.v1`` as it is, a
    ``mail.parsed.v1`` by its account, source id and raw mail; None for any other letter."""
    if letter_type not in ("mail.fetched.v1", "mail.parsed.v1") or not isinstance(payload.get("raw"), dict):
        return None
    try:
        return MailFetched.model_validate({"source": "replay", "received_at": datetime.now(UTC), **payload})
    except ValidationError:
        return None


def summary(result: dict[str, Any]) -> str:
    item = result.get("item") or {}
    where = f"{item.get('type')} #{item.get('number')}"
    return {
        "created": lambda: f"would create {where} {item.get('title')!r}",
        "appended": lambda: f"would append to {where} ({result['matched_by']}: {result['reason']})",
        "duplicate": lambda: f"nothing new: the same mail is on {where} already",
        "held": lambda: f"would be held back again by the rule {result['matched_by']}: {result['reason']}",
    }[result["change"]]()


def _refused(reason: str) -> dict[str, Any]:
    return {"change": "refused", "reason": reason, "summary": f"would be dead-lettered: {reason}"}
