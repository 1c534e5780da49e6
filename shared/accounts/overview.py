"""``postroom accounts list``: every account's state at a glance, one row each.

The token expiry column belongs to the OAuth kinds: a reader per kind is passed in (the CLI composes
them); a kind without one has no token and shows "-".
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from shared.accounts.progress import account_progress, duration
from shared.clock import as_utc
from shared.db.models import Account, AccountHealth, MailboxCursor

# (session, names of the kind's accounts) -> name -> when its token expires (None: not signed in); an
# account the reader leaves out has no token (an IMAP account with a password).
TokenExpiryReader = Callable[[Session, list[str]], dict[str, datetime | None]]
_SHORT = 60


def _iso(value: datetime | None) -> str | None:
    moment = as_utc(value)
    return moment.isoformat(timespec="seconds") if moment else None


def token_expiries(session: Session, accounts: Sequence[Account],
                   token_expiry: Mapping[str, TokenExpiryReader]) -> dict[str, datetime | None]:
    """Name -> when the account's token expires (None: not signed in), for the accounts that have one."""
    expiry: dict[str, datetime | None] = {}
    for kind, reader in token_expiry.items():
        names = [a.name for a in accounts if a.kind == kind]
        if names:
            expiry |= reader(session, names)
    return expiry


def account_rows(session: Session, token_expiry: Mapping[str, TokenExpiryReader]) -> list[dict[str, Any]]:
    accounts = session.scalars(select(Account).order_by(Account.name)).all()
    health = {h.account: h for h in session.scalars(select(AccountHealth))}
    # The backlog is what the last checkpoint counted as still to import; no checkpoint: unknown.
    backlog = {account: total for account, total in session.execute(
        select(MailboxCursor.account, func.sum(MailboxCursor.backlog)).group_by(MailboxCursor.account))}
    progress = account_progress(session)
    expiry = token_expiries(session, accounts, token_expiry)
    rows = []
    for account in accounts:
        h = health.get(account.name)
        failing = bool(h and h.consecutive_failures)
        rows.append({
            "name": account.name, "kind": account.kind, "address": account.address, "active": account.active,
            "last_success_at": _iso(h.last_success_at) if h else None,
            "failing": failing, "consecutive_failures": h.consecutive_failures if h else 0,
            "last_error_kind": h.last_error_kind if h else None, "last_error": h.last_error if h else None,
            "last_error_at": _iso(h.last_error_at) if h else None,
            "backlog": int(backlog[account.name]) if account.name in backlog else None,
            # done, to go, rate and time left of the current import (shared/accounts/progress.py)
            "progress": progress[account.name].as_dict() if account.name in progress else None,
            "token_expires_at": _iso(expiry.get(account.name)),
            "has_token": account.name in expiry,
        })
    return rows


def _short(text: str) -> str:
    line = " ".join(text.split())
    return line if len(line) <= _SHORT else line[:_SHORT - 1] + "…"


def _backlog(row: dict[str, Any]) -> str:
    """``0``, ``unknown``, or during an import ``3800 (24.0%, 40/min, 1h35m left)``."""
    if row["backlog"] is None:
        return "unknown"
    facts = row["progress"]
    if not row["backlog"] or not facts or not facts["importing"]:
        return str(row["backlog"])
    rate = "?/min" if facts["rate_per_minute"] is None else f"{facts['rate_per_minute']:g}/min"
    return f"{row['backlog']} ({facts['percent']}%, {rate}, {duration(facts['seconds_left'])} left)"


def render_rows(rows: list[dict[str, Any]]) -> list[str]:
    table = [("NAME", "KIND", "ACTIVE", "LAST SUCCESS", "BACKLOG", "TOKEN EXPIRES", "LAST ERROR")]
    for r in rows:
        error = f"{r['last_error_kind']}: {_short(r['last_error'] or '')}" if r["failing"] else "-"
        token = (r["token_expires_at"] or "not signed in") if r["has_token"] else "-"
        table.append((r["name"], r["kind"], "yes" if r["active"] else "no", r["last_success_at"] or "never",
                      _backlog(r), token, error))
    widths = [max(len(row[i]) for row in table) for i in range(len(table[0]) - 1)]
    return ["  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=False)) + "  " + row[-1]
            for row in table]
