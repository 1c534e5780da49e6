"""The notifier's handler. An outbox row per (event, recipient, kind) is written before the SMTP
send and marked sent after it: a redelivered event never sends twice, and a send interrupted between
the server's acceptance and our record goes again with the same Message-ID, so clients collapse it.

A batch of events records every intent in one transaction, before the first SMTP exchange (no
savepoint per event: if any event's recording fails, the whole batch fails before any send, and the
runner handles its events one by one, each in its own transaction); each completion is recorded
right after its send, durably (a crash re-sends at most the mail in flight; a database out of reach
is waited for, the completion written before the next send). Mail goes out over the account's kept
connection. A send the SMTP server cannot take now waits out the outage (``waits``)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError, OperationalError
from sqlalchemy.orm import Session, sessionmaker

from services.notifier import compose, delivery, outbox
from services.notifier.waits import Waits
from services.notifier.governor import Governor
from services.notifier.intents import Intents, Send, count
from services.notifier.planning import AUTO_REPLY
from services.notifier.senders import SenderPool
from services.notifier.edits import as_item_changed
from services.notifier.replies import ReplySender
from shared.contracts import Envelope, ItemEdited, SendReply
from shared.db.engine import transaction
from shared.errors import Reject, RetryLater, WaitOut
from shared.logging import get_logger
from shared.runner import Result, envelope_context
from shared.templates import MailTemplates, template_context
from shared.tokens import ItemTokens

log = get_logger("postroom.notifier")


@dataclass
class Notifier:
    sessions: sessionmaker[Session]
    senders: SenderPool
    governor: Governor
    templates: MailTemplates
    tokens: ItemTokens
    own_addresses: Sequence[str]
    loop_id: str
    replies: ReplySender
    waits: Waits
    console_url: str = ""  # the items' links in notifications; empty: none

    def __call__(self, envelope: Envelope[Any]) -> Sequence[Envelope[Any]]:
        try:
            result = self.handle_batch([envelope])[0]
        except (IntegrityError, OperationalError) as exc:
            raise RetryLater(f"database: {type(exc).__name__}") from None
        if isinstance(result, Exception):
            raise result
        return result

    def handle_batch(self, envelopes: Sequence[Envelope[Any]]) -> list[Result]:
        """Item events (from mail, and people's changes read as such) first, then people's replies."""
        results: list[Result] = [[] for _ in envelopes]
        events = [(i, as_item_changed(e) if isinstance(e.payload, ItemEdited) else e)
                  for i, e in enumerate(envelopes) if not isinstance(e.payload, SendReply)]
        edits = {e.message_id: e.payload for e in envelopes if isinstance(e.payload, ItemEdited)}
        deferring: set[str] = set()  # accounts whose SMTP server did not answer in this batch
        sends = self._record_intents(events, results, frozenset(edits)) if events else []
        for send in sends:
            send.edited = edits.get(send.envelope.message_id)
        if sends:
            self._deliver(sends, results, deferring)
        for index, envelope in enumerate(envelopes):
            if isinstance(envelope.payload, SendReply):
                with envelope_context(envelope):
                    try:
                        results[index] = self.replies.handle(envelope, deferring)
                    except (IntegrityError, OperationalError) as exc:
                        results[index] = RetryLater(f"database: {type(exc).__name__}")
                    except Exception as exc:  # RetryLater, Reject, or a bug: this request's own outcome
                        results[index] = exc
        self.waits.settle(envelopes, results)
        return results

    def _deliver(self, sends: list[Send], results: list[Result], deferring: set[str]) -> None:
        engine: Engine = self.sessions.kw["bind"]
        # A connection lost mid-batch: the completion is written again, on a new one, until it is.
        with outbox.Completions(engine) as completions:
            for send in sends:
                if isinstance(results[send.index], Exception):
                    continue  # an earlier send of the same event failed: its retry sends the rest
                with envelope_context(send.envelope):
                    if send.account.name in deferring:
                        # One timeout per server and batch, not one per mail: SIGTERM waits for the batch.
                        results[send.index] = WaitOut(f"SMTP: an earlier send of account {send.account.name} "
                                                      "in the same batch failed")
                        continue
                    try:
                        self._send(send, deferring)
                        self._finish(completions, send)
                    except (IntegrityError, OperationalError) as exc:  # before the send, or a refused completion
                        results[send.index] = RetryLater(f"database: {type(exc).__name__}")
                    except Exception as exc:  # RetryLater, Reject, or a bug: this event's own outcome
                        results[send.index] = exc

    def _finish(self, completions: outbox.Completions, send: Send) -> None:
        """Record the server's answer at once (outbox.py says how it lasts)."""
        message = send.message
        assert message is not None
        completions.write(lambda conn: outbox.finish(
            conn, send.row_id, send.outcome, send.reason, message, message_id=send.message_id,
            item_id=send.event.item.id, item_type=send.event.item.type, account=send.account.name, kind=send.kind,
            recipient=send.to.address))
        count(send.kind, send.account.name, send.outcome)
        if send.outcome == "sent":
            log.info(f"{send.kind} sent", item_number=send.event.item.number)
        else:
            log.warning("refused by the SMTP server", kind=send.kind, error=send.reason)

    def _record_intents(self, events: list[tuple[int, Envelope[Any]]], results: list[Result],
                        by_people: frozenset[str]) -> list[Send]:
        sends: list[Send] = []
        with transaction(self.sessions) as session:
            intents = Intents(session, self.governor, self.tokens, self.own_addresses, [e for _, e in events],
                              by_people)
            for index, envelope in events:
                with envelope_context(envelope):
                    try:
                        sends.extend(intents.record(index, envelope))
                    except Reject as exc:  # an unknown account, found before anything was written
                        results[index] = exc
            intents.save()
        if self.governor.publish_due(intents.seen):  # after the commit: the gauges say what is stored
            try:
                self.governor.publish(self.sessions)
            except OperationalError as exc:  # a metric is not worth failing the committed batch for
                log.warning("loop breakers not published", error=type(exc).__name__)
        return sends

    def _send(self, send: Send, deferring: set[str]) -> None:
        event, account, kind = send.event, send.account, send.kind
        token = self.tokens.subject_token(event.item.number)
        context = template_context(event, token, account.address, send.edited, self.console_url)
        rendered = self.templates.render(kind, context, (account.config.get("templates") or {}).get(kind))
        for problem in rendered.problems:
            log.warning("template error; the stock template is used", template=problem.template, line=problem.line,
                        error=problem.reason)
        message = compose.build(event, rendered, kind=kind, from_address=account.address, to=send.to,
                                message_id=send.message_id,
                                loop_id=self.tokens.loop_value(self.loop_id, send.message_id))
        # RFC 3834 §3.3: an auto-response goes with a null return path, so it cannot bounce back.
        send.outcome, send.reason = delivery.send(
            self.senders, account, message.data, envelope_from="" if kind == AUTO_REPLY else account.address,
            recipients=[send.to.address], kind=kind, deferring=deferring)
        send.message = message
