"""The loop governor: whom we never answer automatically, how often we answer at most, and the
per-account breaker that stops everything automatic when a loop shows.

Static rules look at the mail; caps count what the outbox already holds (a suppressed send is
recorded there too, with its reason); the breaker opens when caps keep being hit and closes by
itself after a cool-down, raising ``postroom_loop_breaker_open`` and an error log line meanwhile.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from services.notifier import volume
from services.notifier.addresses import LIST_ADDRESSES, SYSTEM_SENDERS
from services.notifier.volume import Breaker, Seen, counts
from shared import metrics
from shared.contracts import ItemChanged
from shared.db.models import LoopBreaker, OutboundMail, as_utc, utcnow
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
    system_senders: re.Pattern[str] = re.compile(SYSTEM_SENDERS, re.I)
    list_addresses: re.Pattern[str] = re.compile(LIST_ADDRESSES, re.I)  # auto-replies only
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
        if kind == "auto-reply":
            listed = self._list_address(event, recipient)
            if listed is not None:
                return Refusal("list_address", f"{listed} is a mailing list's address (owner-*, *-request, "
                                               "*-bounces): an auto-reply would reach the list (RFC 3834)")
        if recipient.lower() in own_addresses:
            return Refusal("own_address", f"{recipient} is one of our own addresses")
        if kind == "auto-reply" and any(self.tokens.items_in_message_id(m) for m in event.mail.references):
            return Refusal("same_thread", "the mail answers one of ours: only the first mail of a thread gets an "
                                          "auto-reply")
        return None

    def _list_address(self, event: ItemChanged, recipient: str) -> str | None:
        """The recipient, or the mail's From when the answer would go to a Reply-To: list software
        writes as owner-list@ and sets Reply-To to the list or a person, and neither wants our robot."""
        sender = event.mail.from_.address if event.mail.from_ is not None else ""
        for address in (recipient, sender):
            if address and self.policy.list_addresses.match(address):
                return address
        return None

    def seen(self, session: Session, events: Iterable[ItemChanged]) -> Seen:
        """What the volume rules read for these events, now: a few queries for the whole batch."""
        p = self.policy
        return volume.read(session, events, self.clock(), per_recipient=[c.window for c in p.per_recipient],
                           per_item=[c.window for c in p.per_item],
                           items_per_sender=[c.window for c in p.items_per_sender])

    def count_pending(self, seen: Seen, recipient: str, item_id: int) -> None:
        seen.count_pending(recipient, item_id, len(self.policy.per_recipient), len(self.policy.per_item))

    def volume_refusal(self, session: Session, seen: Seen, event: ItemChanged, recipient: str) -> Refusal | None:
        """Rules that read state: an address that bounced, the account's breaker, then the caps (which
        may trip the breaker)."""
        now = seen.now
        failing = seen.failing.get(recipient.lower())
        if failing is not None:
            return Refusal("failing_address", f"{recipient} bounced our mail ({failing[:120]}); "
                                              "nothing goes there until the flag is cleared")
        breaker = seen.breakers.get(event.account)
        if breaker is not None:
            if as_utc(breaker.open_until) > now:  # type: ignore[operator]
                return Refusal("loop_breaker",
                               f"loop breaker open until {breaker.open_until:%Y-%m-%d %H:%M} UTC: {breaker.reason}")
            session.execute(delete(LoopBreaker).where(LoopBreaker.account == event.account))
            seen.breakers[event.account] = None
            metrics.LOOP_BREAKER_OPEN.labels(event.account).set(0)
            log.warning("loop breaker closed", account=event.account)
        hit = self._cap_hit(seen, event, recipient)
        if hit is None:
            return None
        reason = CAP_PREFIX + hit
        seen.breakers[event.account] = self._maybe_trip(session, event.account, reason, now,
                                                        seen.cap_hits.get(event.account, 0))
        seen.cap_hits[event.account] = seen.cap_hits.get(event.account, 0) + 1
        return Refusal("rate_limited", reason)

    def _cap_hit(self, seen: Seen, event: ItemChanged, recipient: str) -> str | None:
        p = self.policy
        for cap, sent in zip(p.per_recipient, counts(seen.to_recipient, recipient, len(p.per_recipient)), strict=True):
            if sent >= cap.limit:
                return f"{recipient} already got {cap.describe()}"
        for cap, sent in zip(p.per_item, counts(seen.for_item, event.item.id, len(p.per_item)), strict=True):
            if sent >= cap.limit:
                return f"item #{event.item.number} already sent {cap.describe()}"
        if event.change == "created" and event.mail.from_ is not None:
            sender = event.mail.from_.address
            for cap, created in zip(p.items_per_sender, counts(seen.created_by, sender, len(p.items_per_sender)),
                                     strict=True):
                if created > cap.limit:
                    return f"{sender} created more than {cap.describe()} items"
        return None

    def _maybe_trip(self, session: Session, account: str, reason: str, now: datetime,
                    unsaved_hits: int) -> Breaker | None:
        """``unsaved_hits``: cap refusals of this batch, not yet written (the batch's rows go at its end)."""
        hits = session.scalar(select(func.count(OutboundMail.id)).where(
            OutboundMail.account == account, OutboundMail.status == "suppressed",
            OutboundMail.reason.startswith(CAP_PREFIX), OutboundMail.created_at >= now - self.policy.breaker_window))
        hits = (hits or 0) + unsaved_hits
        if hits + 1 < self.policy.breaker_cap_hits:
            return None
        row = session.merge(LoopBreaker(
            account=account, opened_at=now, open_until=now + self.policy.breaker_cooldown,
            reason=f"{hits + 1} cap hits in {self.policy.breaker_window}: {reason}", trips=1))
        metrics.LOOP_BREAKER_OPEN.labels(account).set(1)
        metrics.LOOP_BREAKER_TRIPS.labels(account).inc()
        log.error("loop breaker tripped: automatic mail from this account stops; mail is still stored",
                  account=account, reason=reason, cooldown_s=self.policy.breaker_cooldown.total_seconds())
        return Breaker(row.open_until, row.reason)

