"""The first step of a send: the outbox row that records the intent (or the governor's refusal),
committed before any SMTP exchange. A batch of events records all its intents in one transaction;
one that fails rolls back the whole batch (a savepoint per event cost two round trips per mail).
The batch's new rows go in one statement at its end (``save``)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import bindparam, select
from sqlalchemy.orm import Session

from services.notifier import outbox
from services.notifier.compose import Composed
from services.notifier.governor import Governor
from services.notifier.planning import AUTO_REPLY, planned_sends
from services.notifier.volume import Seen
from shared import metrics
from shared.contracts import Address, Envelope, ItemChanged, ItemEdited
from shared.db.models import Account
from shared.errors import Reject
from shared.logging import get_logger
from shared.tokens import ItemTokens

log = get_logger("postroom.notifier")

# Built once; Core rows, no ORM objects.
_ACCOUNTS = select(Account.name, Account.address, Account.config, Account.sealed_secrets,
                   Account.auto_reply_same_thread).where(
    Account.name.in_(bindparam("names", expanding=True)))
_ADDRESSES = select(Account.address)


@dataclass(frozen=True)
class AccountView:
    name: str
    address: str
    config: dict[str, Any]
    sealed: str | None
    auto_reply_same_thread: bool = False


@dataclass(frozen=True)
class Decision:
    """What the governor said of one planned send (``postroom simulate`` shows these)."""

    kind: str
    recipient: str
    rule: str = ""  # empty: it goes
    reason: str = ""


@dataclass
class Send:
    """One pending outbox row to deliver; ``outcome`` (sent | failed) once the SMTP server answered."""

    index: int  # which event of the batch
    envelope: Envelope[Any]
    kind: str
    to: Address
    account: AccountView
    row_id: int  # 0 until Intents.save() wrote a new row
    message_id: str
    outcome: str = ""
    reason: str = ""
    message: Composed | None = None
    edited: ItemEdited | None = None  # a person's change this event stands for (its actor and changes)

    @property
    def event(self) -> ItemChanged:
        return self.envelope.payload


class Intents:
    """Per batch: accounts, our own addresses, the events' outbox rows and what the governor's volume
    rules read, each read once."""

    def __init__(self, session: Session, governor: Governor, tokens: ItemTokens, own_addresses: Sequence[str],
                 envelopes: Sequence[Envelope[Any]], by_people: frozenset[str] = frozenset()) -> None:
        """``by_people``: the ids of the envelopes that stand for a person's change (``item.edited.v1``)."""
        self.session, self.governor, self.tokens = session, governor, tokens
        self._own_addresses, self._envelopes, self._by_people = own_addresses, envelopes, by_people
        self._accounts: dict[str, AccountView] | None = None
        self._ours: set[str] | None = None
        self._read: tuple[dict[outbox.Key, outbox.Recorded], Seen] | None = None
        self._unsaved: list[tuple[dict[str, Any], Send | None]] = []  # new rows, and the send of a pending one
        self.decided: list[Decision] = []  # the governor's answer for each new intent, in order

    def _account(self, name: str) -> AccountView | None:
        if self._accounts is None:  # the batch's accounts, in one query
            names = list({e.payload.account for e in self._envelopes})
            self._accounts = {r.name: AccountView(r.name, r.address, dict(r.config or {}), r.sealed_secrets,
                                                    bool(r.auto_reply_same_thread))
                              for r in self.session.connection().execute(_ACCOUNTS, {"names": names})}
        return self._accounts.get(name)

    def ours(self) -> set[str]:
        if self._ours is None:
            self._ours = ({a.lower() for a in self._own_addresses}
                          | {a.lower() for a in self.session.connection().execute(_ADDRESSES).scalars()})
        return self._ours

    @property
    def seen(self) -> Seen | None:
        """What the governor read for this batch (None: nothing was asked of it)."""
        return self._read[1] if self._read is not None else None

    def _state(self) -> tuple[dict[outbox.Key, outbox.Recorded], Seen]:
        if self._read is None:
            self._read = (outbox.recorded(self.session, (e.message_id for e in self._envelopes)),
                          self.governor.seen(self.session, (e.payload for e in self._envelopes)))
        return self._read

    def record(self, index: int, envelope: Envelope[Any]) -> list[Send]:
        """The sends this event still needs, each with its pending row; refusals recorded as such.
        ``Reject`` (an unknown account) comes before anything is written."""
        event: ItemChanged = envelope.payload
        account = self._account(event.account)
        if account is None:
            raise Reject(f"unknown account {event.account!r}")
        plans = planned_sends(event, account.config)
        if not plans:
            log.info("no auto-reply", reason="the account sends none for this change")
        sends = [self._intent(index, envelope, event, kind, to, account) for kind, to in plans]
        return [send for send in sends if send is not None]

    def save(self) -> None:
        """Write the batch's new rows, in one statement; each send learns its row."""
        ids = outbox.add_all(self.session, [values for values, _ in self._unsaved])
        for (_, send), row_id in zip(self._unsaved, ids, strict=True):
            if send is not None:
                send.row_id = row_id
        self._unsaved = []

    def _intent(self, index: int, envelope: Envelope[Any], event: ItemChanged, kind: str, to: Address,
                account: AccountView) -> Send | None:
        session, recipient = self.session, to.address
        rows, seen = self._state()
        key = (envelope.message_id, recipient, kind)
        row = rows.get(key)
        if row is not None and row.status != "pending":
            log.info("already settled", kind=kind, status=row.status)
            return None
        if row is not None and row.id == 0:
            # The same event twice in one batch (id 0: its row is written at the batch's end): one send.
            log.info("already settled", kind=kind, status="pending in this batch")
            return None
        if row is not None:
            outbox.count_attempt(session, row.id)
            return Send(index, envelope, kind, to, account, row.id, row.message_id)
        counted = self.governor.counted(seen, event, envelope.message_id in self._by_people)
        refusal = (self.governor.mail_refusal(event, recipient, self.ours(), kind, account.auto_reply_same_thread)
                   or self.governor.volume_refusal(session, seen, event, recipient, envelope.message_id, counted))
        self.decided.append(Decision(kind, recipient, refusal.rule, refusal.reason) if refusal is not None
                            else Decision(kind, recipient))
        if refusal is not None:
            rows[key] = outbox.Recorded(0, "suppressed", "")
            self._unsaved.append((outbox.row(event_id=envelope.message_id, recipient=recipient, kind=kind,
                                             item_id=event.item.id, account=event.account, status="suppressed",
                                             reason=refusal.reason, counted=counted), None))
            count(kind, event.account, "suppressed", refusal.rule)
            log.info("no auto-reply" if kind == AUTO_REPLY else "no notification", rule=refusal.rule,
                     reason=refusal.reason)
            return None
        domain = account.address.rpartition("@")[2] or "postroom.invalid"
        unique = outbox.stable_unique(envelope.message_id, recipient, kind)
        message_id = self.tokens.message_id(event.item.type, event.item.number, domain, unique=unique,
                                             recipient=recipient)
        rows[key] = outbox.Recorded(0, "pending", message_id)
        send = Send(index, envelope, kind, to, account, 0, message_id)
        self._unsaved.append((outbox.row(event_id=envelope.message_id, recipient=recipient, kind=kind,
                                         item_id=event.item.id, account=event.account, status="pending", attempts=1,
                                         message_id=message_id, counted=counted), send))
        if counted:
            self.governor.count_pending(seen, recipient, event.item.id, envelope.message_id)
        return send


def count(kind: str, account: str, outcome: str, rule: str = "") -> None:
    metrics.OUTBOUND.labels(kind, outcome).inc()
    if kind == AUTO_REPLY and outcome == "sent":
        metrics.AUTO_REPLIES_SENT.labels(account).inc()
    elif kind == AUTO_REPLY and outcome == "suppressed":
        metrics.AUTO_REPLIES_SUPPRESSED.labels(account, rule).inc()


