"""Mail the rules held back (``held_mails``, written by the itemwriter): list, show, preview,
release, discard, for the CLI, the API and the console alike.

A release puts the mail into the pipeline again as a ``mail.fetched.v1`` with the original raw
mail and source id, through the outbox, in the transaction that marks the row ``released``. Without
``override`` the mail meets the current rules (a reactivated account's mail becomes an item; one a
rule still holds is held again, on the same row); with ``override`` the itemwriter sets the rule
that held it aside for this one mail and says so in the item's decision. A discard deletes the row;
the raw mail stays in the blob store."""

from __future__ import annotations

from collections.abc import Callable
from email.parser import BytesHeaderParser
from email.policy import default as email_policy
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from services.app import outgoing
from services.app.actors import Actor
from services.app.errors import Conflict, Invalid, NotFound
from services.app.preview import would_happen
from shared.contracts import BlobRef, MailFetched, derived_id
from shared.db.models import HeldMail, Item, ItemMail, as_utc, utcnow
from shared.store import BlobNotFound, BlobStore
from shared.tokens import ItemTokens

RULES = ("own-mail", "inactive-account")
STATES = ("held", "released")
MAX_LIMIT = 200
_HEADER_BYTES = 64 * 1024  # the headers shown are read from the raw mail's start, no further


def held_mails(session: Session, actor: Actor, *, account: str | None = None, rule: str | None = None,
               state: str = "held", limit: int = 50, offset: int = 0) -> dict[str, Any]:
    """Newest first: ``{"total", "mails"}``, each mail's summary."""
    actor.require_admin("the held mail")
    if rule is not None and rule not in RULES:
        raise Invalid(f"{rule!r} is not a rule that holds mail ({', '.join(RULES)})", field="rule")
    if state not in STATES:
        raise Invalid(f"{state!r} is not a state ({', '.join(STATES)})", field="state")
    if not 1 <= limit <= MAX_LIMIT or offset < 0:
        raise Invalid(f"limit is 1 to {MAX_LIMIT}, offset 0 or more", field="limit")
    where = [HeldMail.state == state]
    if account is not None:
        where.append(HeldMail.account == account)
    if rule is not None:
        where.append(HeldMail.rule == rule)
    total = session.scalar(select(func.count()).select_from(HeldMail).where(*where)) or 0
    rows = session.scalars(select(HeldMail).where(*where).order_by(HeldMail.id.desc()).limit(limit).offset(offset))
    return {"total": total, "mails": [_summary(r) for r in rows]}


def show(session: Session, actor: Actor, store: BlobStore, held_id: int) -> dict[str, Any]:
    """The summary, the mail's headers (from the raw mail) and its trace."""
    actor.require_admin("the held mail")
    row = _row(session, held_id)
    return {**_summary(row), "headers": _headers(store, row.raw_key), "trace": _trace(session, row)}


def preview(sessions: sessionmaker[Session], store: BlobStore, tokens: ItemTokens, actor: Actor, held_id: int,
            *, override: bool = False) -> dict[str, Any]:
    """What ``release`` would do now (simulated, rolled back: nothing changes)."""
    actor.require_admin("the held mail")
    with sessions() as session:
        row = _row(session, held_id)
        fetched, rule = _fetched(row), row.rule
    result = would_happen(sessions, store, tokens, fetched, _released(held_id, actor, override))
    return {"id": held_id, "rule": rule, "override": override, **result}


def release(session: Session, actor: Actor, held_id: int, *, override: bool = False) -> dict[str, Any]:
    """Queue the mail for the pipeline again (published after the commit); ``override`` sets the
    rule that held it aside for this one mail."""
    actor.require_admin("releasing held mail")
    row = _row(session, held_id, lock=True)
    if row.state != "held":
        raise Conflict(f"held mail {held_id} was released already, by {row.released_by} "
                       f"at {_iso(row.released_at)}")
    _mark_released(row, actor, override)
    envelope = outgoing.queue(session, _fetched(row),
                              message_id=derived_id("mail.released", str(row.id), str(row.times_held)))
    return {"released": row.id, "override": override, "rule": row.rule, "message_id": envelope.message_id}


def discard(session: Session, actor: Actor, held_id: int) -> dict[str, Any]:
    """Delete the record for good; the raw mail stays in the blob store."""
    actor.require_admin("discarding held mail")
    row = _row(session, held_id, lock=True)
    session.delete(row)
    return {"discarded": held_id, "raw": row.raw_key}


def _row(session: Session, held_id: int, lock: bool = False) -> HeldMail:
    query = select(HeldMail).where(HeldMail.id == held_id)
    row = session.scalar(query.with_for_update() if lock else query)
    if row is None:
        raise NotFound(f"no held mail {held_id}")
    return row


def _mark_released(row: HeldMail, actor: Actor, override: bool) -> None:
    row.state, row.released_at, row.released_by, row.override = "released", utcnow(), actor.email, override


def _released(held_id: int, actor: Actor, override: bool) -> Callable[[Session], None]:
    """The release's mark, in the simulation's own (rolled-back) transaction."""
    def prepare(session: Session) -> None:
        _mark_released(_row(session, held_id), actor, override)
        session.flush()
    return prepare


def _fetched(row: HeldMail) -> MailFetched:
    return MailFetched(account=row.account, source=row.source, source_id=row.source_id,
                       raw=BlobRef(key=row.raw_key, size=row.raw_size, sha256=row.raw_sha256),
                       received_at=as_utc(row.held_at) or utcnow(), archive=row.archive)


def _iso(value: Any) -> str | None:
    return as_utc(value).isoformat() if value is not None else None  # type: ignore[union-attr]


def _summary(row: HeldMail) -> dict[str, Any]:
    return {"id": row.id, "account": row.account, "state": row.state, "rule": row.rule, "reason": row.reason,
            "held_at": _iso(row.held_at), "times_held": row.times_held, "message_id": row.message_id,
            "from": row.from_address, "subject": row.subject, "classification": row.classification,
            "source": row.source, "source_id": row.source_id, "raw": row.raw_key, "raw_size": row.raw_size,
            "released_at": _iso(row.released_at), "released_by": row.released_by or None,
            "override": row.override}


def _headers(store: BlobStore, key: str) -> list[list[str]] | None:
    """The raw mail's header fields, in order, as written (unfolded); None when the bytes are gone."""
    try:
        raw = store.get(key)
    except BlobNotFound:
        return None
    msg = BytesHeaderParser(policy=email_policy).parsebytes(raw[:_HEADER_BYTES])
    return [[name, " ".join(str(value).split())[:2000]] for name, value in msg.raw_items()]


def _trace(session: Session, row: HeldMail) -> dict[str, Any]:
    """Fetched, parsed, held, released, and the item the mail is on now (after a release)."""
    on = session.execute(select(ItemMail.id, Item.type, Item.number).join(Item, Item.id == ItemMail.item_id)
                         .where(ItemMail.direction == "in", ItemMail.account == row.account,
                                ItemMail.source_id == row.source_id).limit(1)).first()
    return {
        "fetched": {"account": row.account, "source": row.source, "source_id": row.source_id, "raw": row.raw_key,
                    "correlation_id": row.correlation_id or None},
        "parsed": {"classification": row.classification, "message_id": row.message_id},
        "held": {"rule": row.rule, "reason": row.reason, "at": _iso(row.held_at), "times": row.times_held},
        "released": ({"by": row.released_by, "at": _iso(row.released_at), "override": row.override}
                     if row.state == "released" else None),
        "item": {"mail_id": on.id, "type": on.type, "number": on.number} if on else None,
    }
