"""How far an import has come, from the fetcher's checkpoints (``mailbox_cursors``): done and to go
in the current run, the rate and the time left. ``accounts show``, ``accounts list``, the API and the
console's accounts page all read it from here.

A run starts when a pass of the fetcher finds mail to import (services/fetcher/cursors.py,
``Cursor.begun``); a restart in the middle of a run goes on with it. The rate is the run's mails
over the time from its start to its last checkpoint, so it holds still between checkpoints; a long
pause (the fetcher stopped) lowers it until the run ends.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from shared.clock import as_utc
from shared.db.models import MailboxCursor


@dataclass(frozen=True)
class Progress:
    done: int  # mails imported in the current run
    to_go: int  # what the last checkpoint counted as still to import
    per_second: float | None  # None: no mail of the run checkpointed yet
    started_at: datetime | None = None
    updated_at: datetime | None = None

    @property
    def importing(self) -> bool:
        return self.to_go > 0

    @property
    def percent(self) -> float | None:
        total = self.done + self.to_go
        return round(100 * self.done / total, 1) if total else None

    @property
    def seconds_left(self) -> int | None:
        if not self.to_go:
            return 0
        return round(self.to_go / self.per_second) if self.per_second else None

    def as_dict(self) -> dict[str, Any]:
        """The fields the CLI's --json, the API and the console's accounts page show."""
        return {"importing": self.importing, "done": self.done, "to_go": self.to_go, "percent": self.percent,
                "rate_per_minute": None if self.per_second is None else round(self.per_second * 60, 1),
                "seconds_left": self.seconds_left, "started_at": _iso(self.started_at),
                "updated_at": _iso(self.updated_at)}


def _iso(value: datetime | None) -> str | None:
    moment = as_utc(value)
    return moment.isoformat(timespec="seconds") if moment else None


def of_cursor(cursor: MailboxCursor) -> Progress:
    """One folder's run (a POP3 maildrop is one cursor too)."""
    started, updated = as_utc(cursor.run_started_at), as_utc(cursor.updated_at)
    done = max(0, cursor.imported - cursor.run_base) if started else 0
    elapsed = (updated - started).total_seconds() if started and updated else 0.0
    rate = done / elapsed if done and elapsed > 0 else None
    return Progress(done, cursor.backlog, rate, started, updated)


def combined(parts: Iterable[Progress]) -> Progress:
    """An account's folders together: their runs side by side, so their rates add up."""
    runs = list(parts)
    # The folders still importing set the pace; once none is, the finished runs' own rates.
    importing = any(p.importing for p in runs)
    rates = [p.per_second for p in runs if p.per_second and (p.importing or not importing)]
    starts = [p.started_at for p in runs if p.started_at]
    updates = [p.updated_at for p in runs if p.updated_at]
    return Progress(sum(p.done for p in runs), sum(p.to_go for p in runs), sum(rates) if rates else None,
                    min(starts, default=None), max(updates, default=None))


def account_progress(session: Session, names: Iterable[str] | None = None) -> dict[str, Progress]:
    """Each account's progress (all its folders); an account without a checkpoint is left out."""
    query = select(MailboxCursor)
    if names is not None:
        query = query.where(MailboxCursor.account.in_(list(names)))
    by_account: dict[str, list[Progress]] = {}
    for cursor in session.scalars(query):
        by_account.setdefault(cursor.account, []).append(of_cursor(cursor))
    return {name: combined(parts) for name, parts in by_account.items()}


def duration(seconds: int | None) -> str:
    """``1h05m``, ``4m10s``, ``12s``; ``?`` when unknown."""
    if seconds is None:
        return "?"
    hours, rest = divmod(max(0, seconds), 3600)
    minutes, secs = divmod(rest, 60)
    if hours:
        return f"{hours}h{minutes:02d}m"
    return f"{minutes}m{secs:02d}s" if minutes else f"{secs}s"


def _rate(facts: dict[str, Any]) -> str:
    return "?/min" if facts["rate_per_minute"] is None else f"{facts['rate_per_minute']:g}/min"


def progress_text(facts: dict[str, Any]) -> str:
    """``3800 to go, 1200 done (24.0%), 40/min, 1h35m left``, or ``up to date`` (from ``as_dict``)."""
    if not facts["importing"]:
        return "up to date"
    return (f"{facts['to_go']} to go, {facts['done']} done ({facts['percent']}%), {_rate(facts)}, "
            f"{duration(facts['seconds_left'])} left")


def bar(facts: dict[str, Any], width: int = 30) -> str:
    """``[#########.....................]  30.0%  1200/4000  40/min  1h10m left``, for a terminal."""
    total = facts["done"] + facts["to_go"]
    filled = width * facts["done"] // total if total else width  # full only when all is done
    percent = facts["percent"] if facts["percent"] is not None else 100.0
    return (f"[{'#' * filled}{'.' * (width - filled)}] {percent:5.1f}%  {facts['done']}/{total}  {_rate(facts)}  "
            f"{duration(facts['seconds_left'])} left")
