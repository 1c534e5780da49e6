"""The notifier's loop breakers, for the people who watch it: list them, and reset one (admins).

A breaker stops automatic mail to one correspondent (scope ``recipient``), one item (``item``) or a
whole account (``account``, a storm) until ``open_until``; the notifier opens and closes them
(services/notifier/governor.py). Read and written here straight from the ``loop_breakers`` table,
which the two sides share: the application layer does not import the pipeline. A reset takes
effect at the notifier's next batch; the caps still apply, so a correspondent past its cap gets
mail again once the cap's window allows."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from services.app.actors import Actor
from services.app.errors import Invalid, NotFound
from shared.db.models import Item, LoopBreaker, as_utc, utcnow

SCOPES = ("recipient", "item", "account")


def list_breakers(session: Session, actor: Actor, account: str | None = None,
                  now: datetime | None = None) -> list[dict[str, Any]]:
    """Every breaker (of ``account``), open ones first; an expired one is removed at the notifier's
    next mail to it."""
    now = now or utcnow()
    query = select(LoopBreaker)
    if account is not None:
        query = query.where(LoopBreaker.account == account)
    rows = list(session.scalars(query))
    items = _items(session, [r.key for r in rows if r.scope == "item"])
    out = [_view(r, items, now) for r in rows]
    return sorted(out, key=lambda b: (not b["open"], b["account"], SCOPES.index(b["scope"]) if b["scope"] in SCOPES
                                      else len(SCOPES), b["key"]))


def reset(session: Session, actor: Actor, account: str, *, recipient: str | None = None,
          item: int | None = None) -> dict[str, Any]:
    """Remove one breaker: the account's (neither option), a correspondent's or an item's (by number);
    what it was."""
    actor.require_admin("resetting a loop breaker")
    if recipient is not None and item is not None:
        raise Invalid("give a recipient or an item, not both", field="recipient")
    key: str | None
    if recipient is not None:
        scope, key, what = "recipient", recipient.strip().lower(), recipient
    elif item is not None:
        scope, key, what = "item", _item_key(session, account, item), f"item #{item}"
    else:
        scope, key, what = "account", "", "the whole account"
    return _remove(session, account, scope, key, what)


def reset_key(session: Session, actor: Actor, account: str, scope: str, key: str) -> dict[str, Any]:
    """Remove the breaker a list entry names (its account, scope and key, as ``list_breakers`` gives them)."""
    actor.require_admin("resetting a loop breaker")
    if scope not in SCOPES:
        raise Invalid(f"scope {scope!r}: use one of {', '.join(SCOPES)}", field="scope")
    return _remove(session, account, scope, key, f"{scope} {key}" if key else "the whole account")


def _remove(session: Session, account: str, scope: str, key: str | None, what: str) -> dict[str, Any]:
    row = session.get(LoopBreaker, (account, scope, key)) if key is not None else None
    if row is None:
        raise NotFound(f"no loop breaker for {what} in account {account!r}")
    view = _view(row, _items(session, [row.key] if scope == "item" else []), utcnow())
    session.execute(delete(LoopBreaker).where(LoopBreaker.account == account, LoopBreaker.scope == scope,
                                              LoopBreaker.key == key))
    return view


def _item_key(session: Session, account: str, number: int) -> str | None:
    """The key of the item breaker of ``account`` whose item has ``number`` (item numbers are per type)."""
    keys = list(session.scalars(select(LoopBreaker.key).where(LoopBreaker.account == account,
                                                              LoopBreaker.scope == "item")))
    ids = [int(k) for k in keys if k.isdigit()]
    found = session.scalar(select(Item.id).where(Item.id.in_(ids), Item.number == number)) if ids else None
    return str(found) if found is not None else None


def _items(session: Session, keys: list[str]) -> dict[str, str]:
    ids = [int(k) for k in keys if k.isdigit()]
    if not ids:
        return {}
    return {str(i): f"{t} #{n}" for i, t, n in session.execute(select(Item.id, Item.type, Item.number)
                                                                .where(Item.id.in_(ids)))}


def _view(row: LoopBreaker, items: dict[str, str], now: datetime) -> dict[str, Any]:
    opened, until = as_utc(row.opened_at), as_utc(row.open_until)
    target = {"recipient": row.key, "item": items.get(row.key, f"item id {row.key}")}.get(row.scope,
                                                                                        "the whole account")
    return {"account": row.account, "scope": row.scope, "key": row.key, "target": target,
            "opened_at": opened.isoformat(timespec="seconds") if opened else None,
            "open_until": until.isoformat(timespec="seconds") if until else None,
            "open": until is not None and until > now, "reason": row.reason, "trips": row.trips}
