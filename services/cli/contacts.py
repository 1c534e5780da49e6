"""``postroom contacts failing|clear``: addresses our mail bounced from, and clearing them."""

from __future__ import annotations

import click

from services.cli.context import CliContext


@click.group("contacts")
def contacts() -> None:
    """Outside addresses we know."""


@contacts.command("failing")
@click.pass_obj
def failing_command(ctx: CliContext) -> None:
    """List the addresses flagged as failing (nothing automatic goes to them)."""
    from services.app.actors import OPERATOR
    from services.app.contacts import failing_contacts

    with ctx.sessions() as session:
        rows = failing_contacts(session, OPERATOR)
    for c in rows:
        click.echo(f"{c['email']:<40} since {c['since'] or '?'}  {c['reason']}")
    if not rows:
        click.echo("no failing addresses")


@contacts.command("clear")
@click.argument("address")
@click.pass_obj
def clear_command(ctx: CliContext, address: str) -> None:
    """Clear the failing flag of ADDRESS: mail may go to it again."""
    from services.app.actors import OPERATOR
    from services.app.contacts import clear_failing
    from services.app.errors import AppError

    try:
        with ctx.sessions() as session, session.begin():
            clear_failing(session, OPERATOR, address)
    except AppError as exc:
        raise click.ClickException(exc.message) from None
    click.echo(f"{address}: cleared")
