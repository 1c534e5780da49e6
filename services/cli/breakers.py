"""``postroom breakers list | reset``: the notifier's loop breakers, and lifting one.

A breaker holds back automatic mail to one correspondent, one item, or (a storm) a whole account;
it closes by itself at ``open_until``. The operations are the application layer's
(services/app/breakers.py); this is their command line."""

from __future__ import annotations

import json
from typing import Any

import click

from services.cli.context import CliContext


def _run(ctx: CliContext, operation: Any, *args: Any, **kwargs: Any) -> Any:
    from services.app.actors import OPERATOR
    from services.app.errors import AppError

    try:
        with ctx.sessions() as session, session.begin():
            return operation(session, OPERATOR, *args, **kwargs)
    except AppError as exc:
        raise click.ClickException(exc.message) from None


@click.group("breakers")
def breakers() -> None:
    """Loop breakers: what the notifier sends nothing automatic to, and why."""


@breakers.command("list")
@click.option("--account", default=None, help="Only this account's breakers.")
@click.option("--json", "as_json", is_flag=True)
@click.pass_obj
def list_command(ctx: CliContext, account: str | None, as_json: bool) -> None:
    """Every breaker: account, what it stops, until when, and why."""
    from services.app.breakers import list_breakers

    rows = _run(ctx, list_breakers, account)
    if as_json:
        click.echo(json.dumps(rows, indent=2))
        return
    for b in rows:
        until = f"{b['open_until'][:16].replace('T', ' ')} UTC"
        state = f"open until {until}" if b["open"] else f"expired {until}"
        click.echo(f"{b['account']:<16} {b['scope']:<9} {b['target']:<32} {state:<28} {b['reason'][:100]}")
    click.echo(f"{sum(b['open'] for b in rows)} open loop breaker(s)" if rows else "no loop breakers")


@breakers.command("reset")
@click.argument("account")
@click.option("--recipient", metavar="ADDR", default=None, help="The breaker of this correspondent.")
@click.option("--item", metavar="N", type=int, default=None, help="The breaker of item #N.")
@click.pass_obj
def reset_command(ctx: CliContext, account: str, recipient: str | None, item: int | None) -> None:
    """Remove ACCOUNT's breaker (the account-wide one, or --recipient's, or --item's): automatic mail
    may go there again at the notifier's next mail, within the caps."""
    from services.app.breakers import reset

    removed = _run(ctx, reset, account, recipient=recipient, item=item)
    click.echo(f"{account}: loop breaker for {removed['target']} reset")
