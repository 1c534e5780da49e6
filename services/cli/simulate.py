"""``postroom simulate FILE --account NAME``: what would happen to a mail, with nothing written
(services/app/simulation.py), with the caps and breakers the notifier reads (``POSTROOM_CAP_*``,
``POSTROOM_BREAKER_*``)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import click

from services.app.simulation import simulate
from services.cli.context import CliContext


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
    replies = [g for g in r["governor"] if g["kind"] == "auto-reply"]
    if any(g["goes"] for g in replies):
        out.append("auto-reply: to " + ", ".join(g["to"] for g in replies if g["goes"]))
    else:
        out.append(f"auto-reply: none ({r['auto_reply_refusal'] or 'see withheld'})")
    notices = [g for g in r["governor"] if g["kind"] != "auto-reply"]
    out.append("notifications: " + (", ".join(f"{g['to']} ({g['kind']})" for g in notices if g["goes"]) or "none"))
    out += [f"  the governor stops the {g['kind']} to {g['to']} now: {g['rule']}: {g['reason']}"
            for g in r["governor"] if not g["goes"]]
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
    from services.app.errors import AppError
    from services.notifier.settings import NotifierSettings

    tokens = ctx.settings.item_tokens()
    # The caps, breakers and own addresses the notifier reads; dev_mode: a simulation signs nothing
    # that leaves, so it needs no real token secret.
    notifier = NotifierSettings(dev_mode=True)
    try:
        result = simulate(ctx.sessions, path.read_bytes(), account, tokens, set(notifier.own_addresses),
                          notifier.governor_policy())
    except AppError as exc:
        raise click.ClickException(exc.message) from None
    click.echo(json.dumps(result, indent=2) if as_json else render(result))
