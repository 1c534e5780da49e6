"""The outbox's pending sends as gauges: how many each account has, and how old its oldest is.

A row is pending from the moment it is written (before the SMTP send) until the send is recorded as
sent or failed; it stays pending while its message waits on the retry ladder (an SMTP server that
refuses for a while). One pending for longer than the ladder takes is stuck: the alert
PostroomOutboundMailPendingTooLong (deploy/prometheus/alerts.yaml) watches the age."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from shared import metrics
from shared.db.models import OutboundMail, as_utc, utcnow

# How often the notifier recomputes them (ConsumerService runs it beside the consume loop).
INTERVAL_SECONDS = 60.0


def pending_by_account(session: Session) -> dict[str, tuple[int, datetime]]:
    """Per account with pending rows: their count and the oldest one's creation time."""
    rows = session.execute(select(OutboundMail.account, func.count(), func.min(OutboundMail.created_at))
                           .where(OutboundMail.status == "pending").group_by(OutboundMail.account))
    return {account: (count, as_utc(oldest) or utcnow()) for account, count, oldest in rows}


@dataclass
class PendingGauges:
    sessions: sessionmaker[Session]
    _accounts: set[str] = field(default_factory=set)  # every account given a value so far

    def publish(self, now: datetime | None = None) -> dict[str, tuple[int, float]]:
        """Set both gauges from the database: an account whose pending rows are gone goes to 0 (a
        stale age would keep the alert firing). Returns what it set."""
        now = now or utcnow()
        with self.sessions() as session:
            found = pending_by_account(session)
        values = {account: (count, max((now - oldest).total_seconds(), 0.0))
                  for account, (count, oldest) in found.items()}
        for account in self._accounts - set(values):
            values[account] = (0, 0.0)
        for account, (count, age) in values.items():
            metrics.OUTBOUND_PENDING.labels(account).set(count)
            metrics.OUTBOUND_OLDEST_PENDING_AGE.labels(account).set(age)
        self._accounts |= set(values)
        return values
