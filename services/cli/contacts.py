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
    from sqlalchemy import select

    from shared.db.models import Contact

    with ctx.sessions() as session:
        rows = session.scalars(select(Contact).where(Contact.failing).order_by(Contact.email)).all()
        for c in rows:
            since = c.failing_since.isoformat(timespec="seconds") if c.failing_since else "?"
            click.echo(f"{c.email:<40} since {since}  {c.failing_reason}")
    if not rows:
        click.echo("no failing addresses")


@contacts.command("clear")
@click.argument("address")
@click.pass_obj
def clear_command(ctx: CliContext, address: str) -> None:
    """Clear the failing flag of ADDRESS: mail may go to it again."""
    from sqlalchemy import select

    from shared.db.models import Contact

    with ctx.sessions() as session, session.begin():
        contact = session.scalar(select(Contact).where(Contact.email == address.lower()))
        if contact is None or not contact.failing:
            raise click.ClickException(f"{address} is not flagged as failing")
        contact.failing, contact.failing_reason, contact.failing_since = False, "", None
    click.echo(f"{address}: cleared")
