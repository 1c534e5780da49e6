"""The loop governor: whom we never answer automatically, how often we answer at most, and the
breakers that stop automatic mail to what loops.

Static rules look at the mail; caps count what the outbox already holds (a suppressed send is
recorded there too, with its reason). The caps count only automatic mail a loop could have caused:
not a person's reply (replies.py sends those, past the governor), nor mail about a person's change
(``item.edited.v1``) or about a mail that answers a person's reply, since a person in the chain
ends a loop. When a correspondent's caps, or an item's, keep being hit, that correspondent's or
item's breaker opens; only when many correspondents hit their caps at once (a storm) does the
account's. A breaker closes by itself after its cool-down; ``postroom breakers`` lists and resets
them; ``postroom_loop_breakers_open`` counts the open ones, recomputed from the database at start.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy.orm import Session, sessionmaker

from services.notifier import breakers, volume
from services.notifier.addresses import LIST_ADDRESSES, SYSTEM_SENDERS
from services.notifier.breakers import ACCOUNT, CAP_PREFIX, ITEM, ITEM_CAP_PREFIX, RECIPIENT, BreakerKey, key_for
from services.notifier.volume import Seen, counts
from shared.contracts import ItemChanged
from shared.db.models import as_utc, utcnow
from shared.logging import get_logger
from shared.tokens import ItemTokens

log = get_logger("postroom.notifier.governor")

__all__ = ["CAP_PREFIX", "Cap", "Governor", "Policy", "Refusal"]


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

    def describe(self, unit: str = "") -> str:
        return f"{self.limit}{' ' + unit if unit else ''} in {_minutes(self.window)}"


@dataclass(frozen=True)
class Policy:
    system_senders: re.Pattern[str] = re.compile(SYSTEM_SENDERS, re.I)
    list_addresses: re.Pattern[str] = re.compile(LIST_ADDRESSES, re.I)  # auto-replies only
    per_recipient: tuple[Cap, ...] = (Cap(10, timedelta(minutes=10)), Cap(100, timedelta(hours=10)))
    per_item: tuple[Cap, ...] = (Cap(10, timedelta(minutes=10)), Cap(100, timedelta(hours=10)))
    items_per_sender: tuple[Cap, ...] = (Cap(20, timedelta(hours=2)),)
    breaker_cap_hits: int = 3  # a scope's cap refusals within breaker_window that mean "a loop"
    breaker_window: timedelta = timedelta(minutes=10)
    breaker_cooldown: timedelta = timedelta(hours=1)
    # Correspondents of one account whose caps refused mail within breaker_window that mean "a storm":
    # then the account's breaker opens too.
    breaker_storm_correspondents: int = 10
    metrics_refresh: timedelta = timedelta(minutes=1)  # the open-breaker gauges, read again at least this often


@dataclass
class Governor:
    policy: Policy
    tokens: ItemTokens
    clock: Callable[[], datetime] = field(default=utcnow)
    _published: set[str] = field(default_factory=set, init=False)  # accounts whose gauges were set
    _published_at: datetime | None = field(default=None, init=False)

    def mail_refusal(self, event: ItemChanged, recipient: str, own_addresses: set[str], kind: str,
                     same_thread: bool = False) -> Refusal | None:
        """Rules that need only the mail: automatic mail, mail systems, ourselves, a known thread
        (``same_thread``: the account's ``auto_reply_same_thread``, which lifts that rule)."""
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
        if kind == "auto-reply" and not same_thread and any(self.tokens.items_in_message_id(m)
                                                            for m in event.mail.references):
            return Refusal("same_thread", "the mail answers one of ours: only the first mail of a thread gets an "
                                          "auto-reply (auto_reply_same_thread: false)")
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
        p, events = self.policy, list(events)
        ours = {m for m in (self._latest_of_ours(e) for e in events) if m}
        return volume.read(session, events, self.clock(), per_recipient=[c.window for c in p.per_recipient],
                           per_item=[c.window for c in p.per_item],
                           items_per_sender=[c.window for c in p.items_per_sender], ours=ours)

    def _latest_of_ours(self, event: ItemChanged) -> str | None:
        """The last of our mails in the thread this mail answers (References ends with its parent)."""
        return next((m for m in reversed(event.mail.references) if self.tokens.items_in_message_id(m)), None)

    def counted(self, seen: Seen, event: ItemChanged, by_person: bool) -> bool:
        """Whether automatic mail for ``event`` counts against the caps (and is capped): not when a
        person made the change, nor when the mail answers a person's reply."""
        if by_person:
            return False
        latest = self._latest_of_ours(event)
        return latest is None or latest not in seen.replies

    def count_pending(self, seen: Seen, recipient: str, item_id: int, event_id: str) -> None:
        seen.count_pending(recipient, item_id, event_id, len(self.policy.per_recipient), len(self.policy.per_item))

    def volume_refusal(self, session: Session, seen: Seen, event: ItemChanged, recipient: str, event_id: str,
                       counted: bool = True) -> Refusal | None:
        """Rules that read state: an address that bounced, the breakers over this mail (the account's,
        the recipient's, the item's), then, for counted mail, the caps (which may open a breaker)."""
        failing = seen.failing.get(recipient.lower())
        if failing is not None:
            return Refusal("failing_address", f"{recipient} bounced our mail ({failing[:120]}); "
                                              "nothing goes there until the flag is cleared")
        for key, what in ((key_for(event.account, ACCOUNT), "for the whole account"),
                          (key_for(event.account, RECIPIENT, recipient), f"for {recipient}"),
                          (key_for(event.account, ITEM, event.item.id), f"for item #{event.item.number}")):
            refusal = self._breaker_refusal(session, seen, key, what)
            if refusal is not None:
                return refusal
        if not counted:
            return None
        hit = self._cap_hit(seen, event, recipient, event_id)
        if hit is None:
            return None
        scope, reason = hit
        self._count_refusal(session, seen, key_for(event.account, scope, event.item.id if scope == ITEM else recipient),
                            reason, event_id)
        return Refusal("rate_limited", reason)

    def _breaker_refusal(self, session: Session, seen: Seen, key: BreakerKey, what: str) -> Refusal | None:
        breaker = seen.breakers.get(key)
        if breaker is None:
            return None
        if as_utc(breaker.open_until) > seen.now:  # type: ignore[operator]
            return Refusal("loop_breaker", f"loop breaker open {what} until "
                                           f"{breaker.open_until:%Y-%m-%d %H:%M} UTC: {breaker.reason}")
        breakers.close(session, key)
        del seen.breakers[key]
        seen.changed = True
        log.warning("loop breaker closed", account=key[0], scope=key[1], key=key[2])
        return None

    def _cap_hit(self, seen: Seen, event: ItemChanged, recipient: str, event_id: str) -> tuple[str, str] | None:
        """(scope, reason) of the first cap this mail would exceed."""
        p = self.policy
        # The item's caps first: a loop on a thread charges the thread, not each watcher it reaches.
        # This event's own round, counted for an earlier watcher, does not count against it.
        own = 1 if (event.item.id, event_id) in seen.rounds else 0
        for cap, rounds in zip(p.per_item, counts(seen.for_item, event.item.id, len(p.per_item)), strict=True):
            if rounds - own >= cap.limit:
                return ITEM, (f"{ITEM_CAP_PREFIX}#{event.item.number} already had {cap.describe('rounds')} "
                              "(a round: the automatic mail about one change)")
        for cap, sent in zip(p.per_recipient, counts(seen.to_recipient, recipient, len(p.per_recipient)), strict=True):
            if sent >= cap.limit:
                return RECIPIENT, f"{CAP_PREFIX}{recipient} already got {cap.describe()}"
        if event.change == "created" and event.mail.from_ is not None:
            sender = event.mail.from_.address
            for cap, created in zip(p.items_per_sender, counts(seen.created_by, sender, len(p.items_per_sender)),
                                     strict=True):
                if created > cap.limit:
                    return RECIPIENT, f"{CAP_PREFIX}{sender} created more than {cap.describe()} items"
        return None

    def _count_refusal(self, session: Session, seen: Seen, key: BreakerKey, reason: str, event_id: str) -> None:
        """A cap refused ``key``'s mail: open its breaker after ``breaker_cap_hits`` refusals in the
        window, and the account's when the correspondents refused make a storm. The batch's own
        refusals are not written yet (its rows go at its end): ``seen`` keeps them meanwhile."""
        p, now = self.policy, seen.now
        since = now - p.breaker_window
        unsaved = seen.cap_hits.setdefault(key, set())
        unsaved.add(event_id)
        if key not in seen.breakers:
            hits = breakers.refusals(session, key, since) | unsaved
            if len(hits) >= p.breaker_cap_hits:
                self._open(session, seen, key, f"{len(hits)} cap hits in {_minutes(p.breaker_window)}: {reason}")
        account, scope, correspondent = key
        storm = key_for(account, ACCOUNT)
        if scope != RECIPIENT or storm in seen.breakers:
            return
        capped = seen.capped.setdefault(account, set())
        capped.add(correspondent)
        everyone = capped | breakers.capped_correspondents(session, account, since)
        if len(everyone) >= p.breaker_storm_correspondents:
            self._open(session, seen, storm, f"a storm: {len(everyone)} correspondents hit their caps in "
                                             f"{_minutes(p.breaker_window)}, the last {correspondent}")

    def _open(self, session: Session, seen: Seen, key: BreakerKey, reason: str) -> None:
        seen.breakers[key] = breakers.open_breaker(session, key, reason, seen.now, self.policy.breaker_cooldown)
        seen.changed = True
        log.error("loop breaker tripped: automatic mail to it stops; mail is still stored", account=key[0],
                  scope=key[1], key=key[2], reason=reason, cooldown_s=self.policy.breaker_cooldown.total_seconds())

    def publish(self, sessions: sessionmaker[Session]) -> None:
        """Set the open-breaker gauges from the database (at start, after a change, now and then)."""
        now = self.clock()
        with sessions() as session:
            open_now = breakers.open_counts(session, now)
        breakers.publish(open_now, self._published)
        self._published |= {account for account, _ in open_now}
        self._published_at = now

    def publish_due(self, seen: Seen | None) -> bool:
        return (seen is not None and seen.changed) or self._published_at is None or \
            self.clock() - self._published_at >= self.policy.metrics_refresh


def _minutes(window: timedelta) -> str:
    return f"{int(window.total_seconds() // 60)} min"
