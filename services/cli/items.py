"""``postroom items list|show``"""

from __future__ import annotations

import json
from typing import Any

import click

from services.cli.context import CliContext


def _item_dict(session: Any, item: Any, full: bool) -> dict[str, Any]:
    from services.cli.itemviews import item_details

    data = {"id": item.id, "type": item.type, "number": item.number, "project": item.project,
            "title": item.title, "status": item.status, "step": item.step, "account": item.account,
            "automatic": item.automatic, "created_at": item.created_at.isoformat(),
            "updated_at": item.updated_at.isoformat(), "mails": len(item.mails)}
    if full:
        data |= item_details(session, item)
    return data


@click.group("items")
def items() -> None:
    """Items created from mail."""


@items.command("list")
@click.option("--json", "as_json", is_flag=True)
@click.option("--limit", default=50, show_default=True)
@click.pass_obj
def list_command(ctx: CliContext, as_json: bool, limit: int) -> None:
    from sqlalchemy import select

    from shared.db.models import Item

    with ctx.sessions() as session:
        rows = [_item_dict(session, i, False)
                for i in session.scalars(select(Item).order_by(Item.id.desc()).limit(limit))]
    if as_json:
        click.echo(json.dumps(rows, indent=2))
        return
    for r in rows:
        click.echo(f"{r['type']:<10} #{r['number']:<6} {r['status']:<8} {r['mails']:>3} mail(s)  {r['title']}")
    if not rows:
        click.echo("no items yet")


@items.command("show")
@click.argument("number", type=int)
@click.option("--type", "item_type", default=None, help="Item type (when several types share the number).")
@click.option("--json", "as_json", is_flag=True)
@click.pass_obj
def show_command(ctx: CliContext, number: int, item_type: str | None, as_json: bool) -> None:
    from sqlalchemy import select

    from services.cli.itemviews import render
    from shared.db.models import Item

    with ctx.sessions() as session:
        query = select(Item).where(Item.number == number)
        if item_type:
            query = query.where(Item.type == item_type)
        found = session.scalars(query.order_by(Item.id)).all()
        if not found:
            raise click.ClickException(f"no item #{number}")
        data = _item_dict(session, found[0], True)
    click.echo(json.dumps(data, indent=2) if as_json else render(data))
