"""``postroom outbox``: the mail the notifier has not sent yet, oldest first (the application layer's
``services/app/pending_sends.py``; the API has it at ``GET /api/v1/outbox``)."""

from __future__ import annotations

import json

import click

from services.cli.context import CliContext


@click.command("outbox")
@click.option("--account", default=None, help="Only this account's mail.")
@click.option("--limit", type=int, default=200, show_default=True, help="At most this many, the oldest.")
@click.option("--status", type=click.Choice(["pending", "failed"]), default="pending", show_default=True,
              help="pending: still to go, oldest first; failed: given up or refused for good, newest first.")
@click.option("--json", "as_json", is_flag=True)
@click.pass_obj
def outbox_command(ctx: CliContext, account: str | None, limit: int, status: str, as_json: bool) -> None:
    """Pending sends: item, recipient, attempts, first and next attempt, last error. A send waits out
    an SMTP outage until the server takes it, or until POSTROOM_MAX_SEND_AGE (then it is recorded on
    its item as failed, and listed with --status failed)."""
    from services.app.actors import OPERATOR
    from services.app.pending_sends import pending_sends

    with ctx.sessions() as session:
        found = pending_sends(session, OPERATOR, account, limit, status)
    if as_json:
        click.echo(json.dumps(found, indent=2))
        return
    for s in found["sends"]:
        item = f"{s['item']['type']} #{s['item']['number']}" if s["item"] else "-"
        click.echo(f"{item:<16} {s['recipient']:<32} {s['kind']:<22} attempts {s['attempts']:<4} "
                   f"first {_when(s['first_attempt'])}  next {_when(s['next_attempt'])}  {s['last_error'][:100]}")
    shown = len(found["sends"])
    more = f" (the oldest {shown} shown)" if shown < found["total"] else ""
    click.echo(f"{found['total']} {status} send(s){more}" if found["total"] else f"no {status} sends")


def _when(iso: str | None) -> str:
    return f"{iso[:19].replace('T', ' ')} UTC" if iso else "-"
