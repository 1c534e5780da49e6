"""The loop breakers' rows and their metric: open one for a scope, close an expired one, count the
cap refusals that open them, and publish the open ones from the database.

A breaker's scope is what loops: one correspondent (``recipient``, keyed by the lower-cased
address), one thread (``item``, keyed by the item's id), or, for a storm of many correspondents
hitting their caps at once, the whole ``account`` (key ""). The cap refusals that count towards a
breaker are the outbox's suppressed rows, so they survive a restart like the breakers do."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from shared import metrics
from shared.db.models import LoopBreaker, OutboundMail

ACCOUNT, RECIPIENT, ITEM = "account", "recipient", "item"
SCOPES = (RECIPIENT, ITEM, ACCOUNT)
CAP_PREFIX = "cap: "  # every cap refusal's reason starts so
ITEM_CAP_PREFIX = CAP_PREFIX + "item "  # ... and an item cap's so (an address has no space)

BreakerKey = tuple[str, str, str]  # (account, scope, key)


@dataclass(frozen=True)
class Breaker:
    open_until: datetime
    reason: str


def key_for(account: str, scope: str, value: str | int = "") -> BreakerKey:
    return account, scope, str(value).lower() if scope == RECIPIENT else str(value)


def refusals(session: Session, key: BreakerKey, since: datetime) -> set[str]:
    """The events whose mail a cap of ``key``'s scope refused since ``since`` (one item round refused
    for five watchers is one refusal)."""
    account, scope, value = key
    t = OutboundMail
    query = select(t.event_id).distinct().where(t.account == account, t.status == "suppressed",
                                                t.created_at >= since)
    if scope == ITEM:
        query = query.where(t.item_id == int(value), t.reason.startswith(ITEM_CAP_PREFIX))
    else:
        query = query.where(func.lower(t.recipient) == value, t.reason.startswith(CAP_PREFIX),
                            ~t.reason.startswith(ITEM_CAP_PREFIX))
    return set(session.connection().execute(query).scalars())


def capped_correspondents(session: Session, account: str, since: datetime) -> set[str]:
    """The correspondents of ``account`` whose own caps refused mail since ``since``."""
    t = OutboundMail
    query = select(func.lower(t.recipient)).distinct().where(
        t.account == account, t.status == "suppressed", t.created_at >= since, t.reason.startswith(CAP_PREFIX),
        ~t.reason.startswith(ITEM_CAP_PREFIX))
    return set(session.connection().execute(query).scalars())


def open_breaker(session: Session, key: BreakerKey, reason: str, now: datetime, cooldown: timedelta) -> Breaker:
    account, scope, value = key
    row = session.get(LoopBreaker, key)
    if row is None:
        row = LoopBreaker(account=account, scope=scope, key=value, trips=0)
        session.add(row)
    row.opened_at, row.open_until, row.reason, row.trips = now, now + cooldown, reason, (row.trips or 0) + 1
    metrics.LOOP_BREAKER_TRIPS.labels(account, scope).inc()
    return Breaker(row.open_until, row.reason)


def close(session: Session, key: BreakerKey) -> None:
    account, scope, value = key
    session.execute(delete(LoopBreaker).where(LoopBreaker.account == account, LoopBreaker.scope == scope,
                                              LoopBreaker.key == value))


def open_counts(session: Session, now: datetime) -> dict[tuple[str, str], int]:
    """(account, scope) -> breakers open now."""
    rows = session.execute(select(LoopBreaker.account, LoopBreaker.scope, func.count())
                           .where(LoopBreaker.open_until > now).group_by(LoopBreaker.account, LoopBreaker.scope))
    return {(account, scope): n for account, scope, n in rows}


def publish(counts: dict[tuple[str, str], int], accounts: Iterable[str]) -> None:
    """Set the gauges from ``counts``, every scope of every account in ``accounts`` (those published
    before included, so a closed breaker reads 0 instead of its last value)."""
    for account in set(accounts) | {a for a, _ in counts}:
        for scope in SCOPES:
            metrics.LOOP_BREAKERS_OPEN.labels(account, scope).set(counts.get((account, scope), 0))
        metrics.LOOP_BREAKER_OPEN.labels(account).set(1 if counts.get((account, ACCOUNT)) else 0)
