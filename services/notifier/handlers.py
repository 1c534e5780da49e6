"""The notifier's handler. An outbox row per (event, recipient, kind) is written before the SMTP
send and marked sent after it: a redelivered event never sends twice, and a send interrupted between
the server's acceptance and our record goes again with the same Message-ID, so clients collapse it."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError, OperationalError
from sqlalchemy.orm import Session, sessionmaker

from services.notifier import compose, outbox
from services.notifier.governor import Governor
from services.notifier.planning import AUTO_REPLY, planned_sends
from services.notifier.senders import SenderPool
from services.notifier.smtp import PermanentSendFailure, SmtpSetupFailure, TransientSendFailure
from services.notifier.templates import Templates
from shared import metrics
from shared.contracts import Address, Envelope, ItemChanged
from shared.db.engine import transaction
from shared.db.models import Account
from shared.errors import Reject, RetryLater
from shared.logging import get_logger
from shared.tokens import ItemTokens

log = get_logger("postroom.notifier")


@dataclass(frozen=True)
class AccountView:
    name: str
    address: str
    config: dict[str, Any]
    sealed: str | None


@dataclass
class Notifier:
    sessions: sessionmaker[Session]
    senders: SenderPool
    governor: Governor
    templates: Templates
    tokens: ItemTokens
    own_addresses: Sequence[str]
    loop_id: str

    def __call__(self, envelope: Envelope[Any]) -> Sequence[Envelope[Any]]:
        event: ItemChanged = envelope.payload
        with transaction(self.sessions) as session:
            account = session.scalar(select(Account).where(Account.name == event.account))
            if account is None:
                raise Reject(f"unknown account {event.account!r}")
            view = AccountView(account.name, account.address, dict(account.config or {}), account.sealed_secrets)
            ours = {a.lower() for a in self.own_addresses} | {a.lower() for a in session.scalars(select(Account.address))}
        plans = planned_sends(event, view.config)
        if not plans:
            log.info("no auto-reply", reason="the account sends none for this change")
        for kind, to in plans:
            try:
                self._deliver(envelope, event, kind, to, view, ours)
            except (IntegrityError, OperationalError) as exc:
                raise RetryLater(f"database: {type(exc).__name__}") from None
        return []

    def _deliver(self, envelope: Envelope[Any], event: ItemChanged, kind: str, to: Address, account: AccountView,
                 ours: set[str]) -> None:
        recipient = to.address
        with transaction(self.sessions) as session:
            row = outbox.find(session, envelope.message_id, recipient, kind)
            if row is not None and row.status != "pending":
                log.info("already settled", kind=kind, status=row.status)
                return
            if row is None:
                refusal = (self.governor.mail_refusal(event, recipient, ours, kind)
                           or self.governor.volume_refusal(session, event, recipient))
                if refusal is not None:
                    outbox.add(session, event_id=envelope.message_id, recipient=recipient, kind=kind,
                               item_id=event.item.id, account=event.account, status="suppressed",
                               reason=refusal.reason)
                    _count(kind, event.account, "suppressed", refusal.rule)
                    log.info("no auto-reply" if kind == AUTO_REPLY else "no notification", rule=refusal.rule,
                             reason=refusal.reason)
                    return
                domain = account.address.rpartition("@")[2] or "postroom.invalid"
                row = outbox.add(session, event_id=envelope.message_id, recipient=recipient, kind=kind,
                                 item_id=event.item.id, account=event.account, status="pending",
                                 message_id=self.tokens.message_id(event.item.type, event.item.number, domain,
                                                                   unique=outbox.stable_unique(envelope.message_id,
                                                                                               recipient, kind)))
            row.attempts += 1
            row_id, message_id = row.id, row.message_id
        token = self.tokens.subject_token(event.item.number)
        rendered = self.templates.render(kind, compose.template_context(event, token, account.address),
                                         (account.config.get("templates") or {}).get(kind))
        message = compose.build(event, rendered, kind=kind, from_address=account.address, to=to,
                                message_id=message_id, loop_id=self.loop_id)
        try:
            sender = self.senders.for_account(account.name, account.config, account.sealed)
            # RFC 3834 §3.3: an auto-response goes with a null return path, so it cannot bounce back.
            sender.send(message, envelope_from="" if kind == AUTO_REPLY else account.address, recipients=[recipient])
        except TransientSendFailure as exc:
            _count(kind, account.name, "deferred")
            raise RetryLater(f"SMTP: {exc}") from None
        except (SmtpSetupFailure, ValueError) as exc:
            raise Reject(f"SMTP setup of account {account.name}: {exc}") from None
        except PermanentSendFailure as exc:
            with transaction(self.sessions) as session:
                outbox.finish(session, row_id, "failed", str(exc), message, event.item.type)
            _count(kind, account.name, "failed")
            log.warning("refused by the SMTP server", kind=kind, error=str(exc))
            return
        with transaction(self.sessions) as session:
            outbox.finish(session, row_id, "sent", "", message, event.item.type)
        _count(kind, account.name, "sent")
        log.info(f"{kind} sent", item_number=event.item.number)


def _count(kind: str, account: str, outcome: str, rule: str = "") -> None:
    metrics.OUTBOUND.labels(kind, outcome).inc()
    if kind == AUTO_REPLY and outcome == "sent":
        metrics.AUTO_REPLIES_SENT.labels(account).inc()
    elif kind == AUTO_REPLY and outcome == "suppressed":
        metrics.AUTO_REPLIES_SUPPRESSED.labels(account, rule).inc()
