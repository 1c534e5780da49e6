"""``postroom simulate FILE --account NAME``: what would happen to a mail, with nothing written.

The mail goes through the parser's ``normalize`` and the itemwriter's ``write_item`` inside a
transaction that is rolled back, so the answer is the one the services would give, not a second
implementation of their rules that could drift."""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import click

from services.cli.context import CliContext


def simulate(sessions: Any, raw: bytes, account: str, tokens: Any, own_addresses: set[str],
             fetched: Any = None, prepare: Any = None) -> dict[str, Any]:
    """``fetched``: the ``MailFetched`` the mail came in with (a held mail or a dead letter), else
    one as ``postroom ingest`` would make; ``prepare(session)`` runs first in the rolled-back
    transaction (a release of a held mail, to see what it would do)."""
    from sqlalchemy import select

    from services.itemwriter.authentication import trust_summary
    from services.itemwriter.writer import write_item
    from services.notifier.governor import Governor, Policy
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
                raise click.ClickException(f"unknown account {account!r}")
            trust = trust_summary(row.kind, row.trusted_authserv_ids or [])
            ours = own_addresses | {a.lower() for a in session.scalars(select(Account.address))}
            if prepare is not None:
                prepare(session)
            outcome = write_item(session, envelope)
            event = outcome.outputs[0].payload if outcome.outputs else None
            item = ({"type": outcome.item.type, "number": outcome.item.number, "title": outcome.item.title}
                    if outcome.item is not None else None)
        finally:
            session.rollback()
    mail = parsed.model_dump(mode="json", by_alias=True, include={
        "message_id", "date", "subject", "from_", "reply_to", "in_reply_to", "references", "classification",
        "item_refs", "authentication_results", "defects"})
    refusal = None
    if event is not None and event.auto_reply:
        # The governor's rules on the mail itself; its volume caps count sends at send time.
        sender = event.mail.reply_to[0] if event.mail.reply_to else event.mail.from_
        refusal = (Governor(Policy(), tokens).mail_refusal(event, sender.address, ours, "auto-reply")
                   if sender else "the mail has no sender address")
    return {"mail": mail, "change": outcome.change, "item": item, "matched_by": outcome.matched_by,
            "reason": outcome.reason, "decision": outcome.decision, "auto_reply_refusal": refusal, "trust": trust,
            "event": event.model_dump(mode="json", by_alias=True) if event else None}


_VERDICTS = {"pass": "verified", "fail": "UNVERIFIED", "unchecked": "not checked"}


def _ref(ref: dict[str, Any]) -> str:
    return f"#{ref['number']} ({ref['signal']}{', signed' if ref['signed'] else ''})"


def render(r: dict[str, Any]) -> str:
    m, d, ev = r["mail"], r["decision"], r["event"] or {}
    sender = d.get("sender", {})
    out = [f"parse: from {(m.get('from') or {}).get('address', '-')}  subject {m['subject']!r}",
           f"       message-id {m['message_id']}  in-reply-to {m['in_reply_to'] or '-'}",
           f"       classification {m['classification']['kind']} {m['classification']['reason']}".rstrip(),
           f"       item refs: {', '.join(_ref(x) for x in m['item_refs']) or 'none'}",
           f"sender: {sender.get('address') or '-'} "
           f"({_VERDICTS.get(sender.get('verdict', ''), '-')}: {sender.get('auth', '-')})",
           f"  the account trusts: {r['trust']}"]
    if r["change"] == "held":
        out.append(f"decision: HOLD BACK (rule {r['matched_by']}): {r['reason']}")
        out.append("auto-reply and notifications: none (the mail waits in 'postroom held list')")
        return "\n".join(out)
    out += [f"  {n}" for n in d.get("notes", [])]
    out.append("field mapping and defaults:")
    out += [f"  {n}" for n in d.get("mapping", [])] or ["  (none: the item exists)"]
    verb = {"created": "CREATE", "appended": "APPEND to", "duplicate": "NOTHING (duplicate of a mail on)"}[r["change"]]
    out.append(f"decision: {verb} {r['item']['type']} #{r['item']['number']} {r['item']['title']!r}")
    out.append(f"  signal: {r['matched_by']}: {r['reason']}")
    out += [f"  - {c}" for c in d.get("considered", [])]
    out.append("status/step:")
    out += [f"  {n}" for n in d.get("workflow", [])]
    if r["change"] == "duplicate":
        out.append("auto-reply and notifications: none new (the recorded event is published again)")
        return "\n".join(out)
    to = (ev.get("mail", {}).get("from") or {}).get("address", "-")
    if ev.get("auto_reply") and not r["auto_reply_refusal"]:
        out.append(f"auto-reply: to {to}")
    else:
        out.append(f"auto-reply: none ({r['auto_reply_refusal'] or 'see withheld'})")
    out.append("notifications: " + (", ".join(a["address"] for a in ev.get("notify", [])) or "none"))
    out += [f"  withheld {w['kind']} to {w['address']}: {w['reason']}" for w in ev.get("withheld", [])]
    if ev.get("failing_addresses"):
        out.append(f"flagged as failing: {', '.join(ev['failing_addresses'])}")
    return "\n".join(out)


@click.command("simulate")
@click.argument("path", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--account", required=True, help="The account the mail would arrive for.")
@click.option("--json", "as_json", is_flag=True)
@click.pass_obj
def simulate_command(ctx: CliContext, path: Path, account: str, as_json: bool) -> None:
    """Show what would happen to the mail in PATH, writing nothing."""
    from shared.tokens import ItemTokens

    tokens = ItemTokens(ctx.settings.item_token_format, ctx.settings.resolved_token_secret)
    result = simulate(ctx.sessions, path.read_bytes(), account, tokens, set())
    click.echo(json.dumps(result, indent=2) if as_json else render(result))
