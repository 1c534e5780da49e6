"""What would happen to a mail, with nothing written: ``postroom simulate``, and the preview of a
held mail's release or a dead letter's replay (services/app/preview.py).

The mail goes through the parser's ``normalize`` and the itemwriter's ``write_item`` inside a
transaction that is rolled back, so the answer is the one the services would give, not a second
implementation of their rules that could drift. The item event it gives then goes through the
notifier's own intents (``services/notifier/intents.py``) in the same transaction: the governor's
answer for each auto-reply and notification now, with its caps, breakers and the account's settings.

This module is the application layer's one documented reach into the pipeline services' code
(tests/unit/test_service_boundaries.py, docs/architecture.md): a simulation that used a copy of
their rules would answer for a pipeline that does not exist."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime
from typing import Any

from services.app.errors import NotFound


def _governed(session: Any, event_envelope: Any, tokens: Any, own_addresses: set[str],
              policy: Any) -> list[dict[str, Any]]:
    """The governor's answer for each send the event plans, read now (writes roll back with the rest)."""
    from structlog.testing import capture_logs

    from services.notifier.governor import Governor
    from services.notifier.intents import Intents

    intents = Intents(session, Governor(policy, tokens), tokens, sorted(own_addresses), [event_envelope])
    # The notifier's log lines (a refusal, a breaker that would trip) are its own: they would land
    # in this command's output, and the decisions say the same.
    with capture_logs():
        intents.record(0, event_envelope)
    return [{"kind": d.kind, "to": d.recipient, "goes": not d.rule, "rule": d.rule, "reason": d.reason}
            for d in intents.decided]


def simulate(sessions: Any, raw: bytes, account: str, tokens: Any, own_addresses: set[str],
             policy: Any = None, fetched: Any = None, prepare: Any = None) -> dict[str, Any]:
    """``fetched``: the ``MailFetched`` the mail came in with (a held mail or a dead letter), else
    one as ``postroom ingest`` would make; ``prepare(session)`` runs first in the rolled-back
    transaction (a release of a held mail, to see what it would do)."""
    from sqlalchemy import select

    from shared.items.authentication import trust_summary
    from services.itemwriter.writer import write_item
    from services.notifier.governor import Policy
    from services.parser.handlers import normalize
    from services.parser.limits import Limits
    from shared.contracts import BlobRef, Envelope, MailFetched
    from shared.db.models import Account

    digest = hashlib.sha256(raw).hexdigest()
    fetched = fetched or MailFetched(account=account, source="stdin", source_id=f"stdin:{digest}",
                                     raw=BlobRef(key=f"sha256:{digest}", size=len(raw), sha256=digest),
                                     received_at=datetime.now(UTC))
    parsed = normalize(raw, fetched, None, tokens, Limits())
    envelope = Envelope.first(fetched).follow(parsed)
    with sessions() as session:
        session.begin()
        try:
            row = session.scalar(select(Account).where(Account.name == account))
            if row is None:
                raise NotFound(f"unknown account {account!r}")
            trust = trust_summary(row.kind, row.trusted_authserv_ids or [])
            ours = own_addresses | {a.lower() for a in session.scalars(select(Account.address))}
            if prepare is not None:
                prepare(session)
            outcome = write_item(session, envelope)
            event = outcome.outputs[0].payload if outcome.outputs else None
            item = ({"type": outcome.item.type, "number": outcome.item.number, "title": outcome.item.title}
                    if outcome.item is not None else None)
            governor = (_governed(session, outcome.outputs[0], tokens, ours, policy or Policy())
                        if event is not None and outcome.change not in ("duplicate", "held") else [])
        finally:
            session.rollback()
    mail = parsed.model_dump(mode="json", by_alias=True, include={
        "message_id", "date", "subject", "from_", "reply_to", "in_reply_to", "references", "classification",
        "item_refs", "authentication_results", "defects"})
    refusal = None
    if event is not None and event.auto_reply:
        replies = [g for g in governor if g["kind"] == "auto-reply"]
        refusal = (None if replies and replies[0]["goes"] else
                   f"{replies[0]['rule']}: {replies[0]['reason']}" if replies else "the mail has no sender address")
    return {"mail": mail, "change": outcome.change, "item": item, "matched_by": outcome.matched_by,
            "reason": outcome.reason, "decision": outcome.decision, "auto_reply_refusal": refusal, "trust": trust,
            "governor": governor, "event": event.model_dump(mode="json", by_alias=True) if event else None}
