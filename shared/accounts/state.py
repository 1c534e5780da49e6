"""What the fetcher keeps about an account apart from the account itself, and removing it.

Fetch state (where reading stands, who reads, how it goes) is keyed by the account's name and goes
with the account. History (items, their mails, outbound mails) names the account too but is the
tracker's record: it stays. A new table keyed by an account belongs in exactly one of the two lists
(tests/unit/test_account_state.py checks that every such table was placed).
"""

from __future__ import annotations

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from shared.clock import as_utc, now
from shared.db.models import (AccountHealth, ApiCursor, Base, FetchedDigest, FetcherLease, FetchFailure, HeldMail, Item,
                              ItemMail, LoopBreaker, MailboxCursor, OAuthToken, OutboundMail, Pop3Uidl)

# Removed with the account. LoopBreaker is the notifier's transient per-account breaker: it would
# otherwise apply to a later account of the same name.
ACCOUNT_STATE: tuple[type[Base], ...] = (FetcherLease, MailboxCursor, FetchedDigest, Pop3Uidl, AccountHealth,
                                         FetchFailure, LoopBreaker, OAuthToken, ApiCursor)
# Kept: what was imported and sent stays, naming an account that is gone.
ACCOUNT_HISTORY: tuple[type[Base], ...] = (Item, ItemMail, OutboundMail, HeldMail)


def live_reader(session: Session, account: str) -> FetcherLease | None:
    """The replica reading ``account`` now, if its lease has not expired."""
    lease = session.get(FetcherLease, account)
    if lease is None or (as_utc(lease.expires_at) or now()) < now():
        return None
    return lease


def forget_account(session: Session, account: str) -> dict[str, int]:
    """Delete ``account``'s state rows in the caller's transaction; return the rows removed per table."""
    removed = {}
    for model in ACCOUNT_STATE:
        result = session.execute(delete(model).where(model.account == account))  # type: ignore[attr-defined]
        if result.rowcount:
            removed[model.__tablename__] = result.rowcount
    return removed


def account_counts(session: Session, account: str, models: tuple[type[Base], ...]) -> dict[str, int]:
    """The rows naming ``account`` per table of ``models`` (tables without any left out): what deleting
    the account removes (``ACCOUNT_STATE``) or leaves (``ACCOUNT_HISTORY``)."""
    counts = {}
    for model in models:
        column = model.account  # type: ignore[attr-defined]
        if found := session.scalar(select(func.count()).select_from(model).where(column == account)):
            counts[model.__tablename__] = found
    return counts
