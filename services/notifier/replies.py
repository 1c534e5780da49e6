"""Sending a person's reply (``reply.requested.v1``) exactly once, the outbox's way: one row per
recipient (To and Cc) written before the SMTP exchange, all marked after it. A redelivered request
whose rows are settled sends nothing; one interrupted between the server's acceptance and our record
goes again with the same Message-ID (a database out of reach after the send is waited for). One mail
goes to all recipients, so each sees the others; its Message-ID carries the token bound to the first
To address, and every recipient is recorded as one, so a Cc'd colleague's answer appends too."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from services.notifier import delivery, outbox
from services.notifier.intents import AccountView, count
from services.notifier.reply_mail import build_reply
from services.notifier.senders import SenderPool
from shared.contracts import Envelope, SendReply
from shared.db.engine import transaction
from shared.db.models import Account
from shared.errors import Reject, WaitOut
from shared.logging import get_logger
from shared.store import BlobStore
from shared.tokens import ItemTokens

log = get_logger("postroom.notifier")
KIND = "reply"


@dataclass
class ReplySender:
    sessions: sessionmaker[Session]
    senders: SenderPool
    tokens: ItemTokens
    store: BlobStore
    loop_id: str

    def handle(self, envelope: Envelope[Any], deferring: set[str]) -> Sequence[Envelope[Any]]:
        reply: SendReply = envelope.payload
        recipients = list({a.address.lower(): a for a in [*reply.to, *reply.cc]}.values())
        if not recipients:
            raise Reject("a reply with no recipient")
        with transaction(self.sessions) as session:
            account, rows, message_id = self._record(session, envelope, reply, recipients)
        if not rows:
            log.info("already settled", kind=KIND)
            return []
        message = build_reply(reply, from_address=account.address, token=self.tokens.subject_token(reply.item.number),
                              message_id=message_id, loop_id=self.tokens.loop_value(self.loop_id, message_id),
                              store=self.store)
        if account.name in deferring:
            raise WaitOut(f"SMTP: an earlier send of account {account.name} in the same batch failed")
        outcome, reason = delivery.send(self.senders, account, message.data, envelope_from=account.address,
                                        recipients=[r.address for r in recipients], kind=KIND, deferring=deferring)
        engine = self.sessions.kw["bind"]

        def finish_all(conn: Any) -> None:
            for index, (row_id, recipient) in enumerate(rows):
                outbox.finish(conn, row_id, outcome, reason, message, message_id=message_id, item_id=reply.item.id,
                              item_type=reply.item.type, account=account.name, kind=KIND, recipient=recipient,
                              history=index == 0)

        with outbox.Completions(engine) as completions:
            completions.write(finish_all)
        count(KIND, account.name, outcome)
        log.info("reply sent" if outcome == "sent" else "reply refused by the SMTP server",
                 item_number=reply.item.number, error=reason or None)
        return []

    def _record(self, session: Session, envelope: Envelope[Any], reply: SendReply,
                recipients: list[Any]) -> tuple[AccountView, list[tuple[int, str]], str]:
        row = session.execute(select(Account.name, Account.address, Account.config, Account.sealed_secrets)
                              .where(Account.name == reply.account)).first()
        if row is None:
            raise Reject(f"unknown account {reply.account!r}")
        account = AccountView(row.name, row.address, dict(row.config or {}), row.sealed_secrets)
        recorded = outbox.recorded(session, [envelope.message_id])
        if recorded and all(r.status != "pending" for r in recorded.values()):
            return account, [], ""
        message_id = next((r.message_id for r in recorded.values() if r.message_id), "")
        if not message_id:
            domain = account.address.rpartition("@")[2] or "postroom.invalid"
            first = reply.to[0].address if reply.to else recipients[0].address
            message_id = self.tokens.message_id(reply.item.type, reply.item.number, domain,
                                                unique=outbox.stable_unique(envelope.message_id, first, KIND),
                                                recipient=first)
        pending: list[tuple[int, str]] = []
        new = []
        for to in recipients:
            found = recorded.get((envelope.message_id, to.address, KIND))
            if found is None:
                # A person's reply: never counted against the governor's caps (nor refused by them).
                new.append((outbox.row(event_id=envelope.message_id, recipient=to.address, kind=KIND,
                                       item_id=reply.item.id, account=account.name, status="pending",
                                       message_id=message_id, attempts=1, counted=False), to.address))
            elif found.status == "pending":
                outbox.count_attempt(session, found.id)
                pending.append((found.id, to.address))
        ids = outbox.add_all(session, [values for values, _ in new])
        pending += [(row_id, address) for row_id, (_, address) in zip(ids, new, strict=True)]
        return account, pending, message_id
