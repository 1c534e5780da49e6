"""The loop governor: whom we never answer automatically, how often we answer at most, and the
per-account breaker that stops everything automatic when a loop shows.

Static rules look at the mail; caps count what the outbox already holds (a suppressed send is
recorded there too, with its reason); the breaker opens when caps keep being hit and closes by
itself after a cool-down, raising ``postroom_loop_breaker_open`` and an error log line meanwhile.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from shared import metrics
from shared.contracts import ItemChanged
from shared.db.models import Contact, Item, ItemMail, LoopBreaker, OutboundMail, as_utc, utcnow
from shared.logging import get_logger
from shared.tokens import ItemTokens

log = get_logger("postroom.notifier.governor")

CAP_PREFIX = "cap: "


@dataclass(frozen=True)
class Refusal:
    """Why an automatic mail does not go: ``rule`` is a short fixed word (a metric label), ``reason``
    the sentence recorded on the outbox row."""

    rule: str
    reason: str


@dataclass(frozen=True)
class Cap:
    limit: int
    window: timedelta

    def describe(self) -> str:
        return f"{self.limit} in {int(self.window.total_seconds() // 60)} min"


@dataclass(frozen=True)
class Policy:
    system_senders: re.Pattern[str] = re.compile(
        r"^(mailer-daemon|postmaster|no-?reply|do-?not-?reply|bounces?|notifications?)([+.-].*)?@", re.I)
    per_recipient: tuple[Cap, ...] = (Cap(10, timedelta(minutes=10)), Cap(100, timedelta(hours=10)))
    per_item: tuple[Cap, ...] = (Cap(10, timedelta(minutes=10)), Cap(100, timedelta(hours=10)))
    items_per_sender: tuple[Cap, ...] = (Cap(20, timedelta(hours=2)),)
    breaker_cap_hits: int = 3  # cap suppressions within breaker_window that mean "a loop"
    breaker_window: timedelta = timedelta(minutes=10)
    breaker_cooldown: timedelta = timedelta(hours=1)


@dataclass
class Governor:
    policy: Policy
    tokens: ItemTokens
    clock: Callable[[], datetime] = field(default=utcnow)

    def mail_refusal(self, event: ItemChanged, recipient: str, own_addresses: set[str], kind: str) -> Refusal | None:
        """Rules that need only the mail: automatic mail, mail systems, ourselves, a known thread."""
        if kind == "auto-reply" and not event.sender_verified:
            return Refusal("unverified_sender", "a trusted server saw the sender's address fail authentication: "
                                                "its real owner never wrote")
        if kind == "auto-reply" and event.mail.classification.automatic:
            c = event.mail.classification
            return Refusal("automatic", f"the mail is automatic ({c.kind}: {c.reason})")
        if self.policy.system_senders.match(recipient):
            return Refusal("system_address", f"{recipient} is a mail system or no-reply address")
        if recipient.lower() in own_addresses:
            return Refusal("own_address", f"{recipient} is one of our own addresses")
        if kind == "auto-reply" and any(self.tokens.items_in_message_id(m) for m in event.mail.references):
            return Refusal("same_thread", "the mail answers one of ours: only the first mail of a thread gets an "
                                          "auto-reply")
        return None

    def volume_refusal(self, session: Session, event: ItemChanged, recipient: str) -> Refusal | None:
        """Rules that read state: an address that bounced, the account's breaker, then the caps (which
        may trip the breaker)."""
        now = self.clock()
        failing = session.scalar(select(Contact).where(Contact.email == recipient.lower(), Contact.failing))
        if failing is not None:
            return Refusal("failing_address", f"{recipient} bounced our mail ({failing.failing_reason[:120]}); "
                                              "nothing goes there until the flag is cleared")
        breaker = session.get(LoopBreaker, event.account)
        if breaker is not None:
            if as_utc(breaker.open_until) > now:  # type: ignore[operator]
                return Refusal("loop_breaker",
                               f"loop breaker open until {breaker.open_until:%Y-%m-%d %H:%M} UTC: {breaker.reason}")
            session.delete(breaker)
            metrics.LOOP_BREAKER_OPEN.labels(event.account).set(0)
            log.warning("loop breaker closed", account=event.account)
        hit = self._cap_hit(session, event, recipient, now)
        if hit is None:
            return None
        reason = CAP_PREFIX + hit
        self._maybe_trip(session, event.account, reason, now)
        return Refusal("rate_limited", reason)

    def _cap_hit(self, session: Session, event: ItemChanged, recipient: str, now: datetime) -> str | None:
        checks = [(OutboundMail.recipient == recipient, cap, f"{recipient} already got {cap.describe()}")
                  for cap in self.policy.per_recipient]
        checks += [(OutboundMail.item_id == event.item.id, cap, f"item #{event.item.number} already sent {cap.describe()}")
                   for cap in self.policy.per_item]
        for (_, cap, reason), sent in zip(checks, self._sent_counts(session, now, checks)):
            if sent >= cap.limit:
                return reason
        if event.change == "created" and event.mail.from_ is not None:
            sender = event.mail.from_.address
            for cap in self.policy.items_per_sender:
                created = session.scalar(
                    select(func.count(func.distinct(Item.id))).join(ItemMail, ItemMail.item_id == Item.id)
                    .where(ItemMail.direction == "in", ItemMail.from_address == sender,
                           Item.created_at >= now - cap.window))
                if (created or 0) > cap.limit:
                    return f"{sender} created more than {cap.describe()} items"
        return None

    @staticmethod
    def _sent_counts(session: Session, now: datetime, checks: list[tuple[Any, Cap, str]]) -> list[int]:
        """Sent (or about to be) per (condition, cap window): every cap in one query, one round trip."""
        if not checks:
            return []
        oldest = now - max(cap.window for _, cap, _ in checks)
        row = session.execute(
            select(*[func.count(OutboundMail.id).filter(condition, OutboundMail.created_at >= now - cap.window)
                     for condition, cap, _ in checks])
            .where(OutboundMail.status.in_(("sent", "pending")), OutboundMail.created_at >= oldest,
                   or_(*[condition for condition, _, _ in checks]))).one()
        return [n or 0 for n in row]

    def _maybe_trip(self, session: Session, account: str, reason: str, now: datetime) -> None:
        hits = session.scalar(select(func.count(OutboundMail.id)).where(
            OutboundMail.account == account, OutboundMail.status == "suppressed",
            OutboundMail.reason.startswith(CAP_PREFIX), OutboundMail.created_at >= now - self.policy.breaker_window))
        if (hits or 0) + 1 < self.policy.breaker_cap_hits:
            return
        session.merge(LoopBreaker(account=account, opened_at=now, open_until=now + self.policy.breaker_cooldown,
                                  reason=f"{(hits or 0) + 1} cap hits in {self.policy.breaker_window}: {reason}",
                                  trips=1))
        metrics.LOOP_BREAKER_OPEN.labels(account).set(1)
        metrics.LOOP_BREAKER_TRIPS.labels(account).inc()
        log.error("loop breaker tripped: automatic mail from this account stops; mail is still stored",
                  account=account, reason=reason, cooldown_s=self.policy.breaker_cooldown.total_seconds())

