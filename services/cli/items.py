"""``postroom items list|show|attachment``: thin adapters over the application layer."""

from __future__ import annotations

import json
import sys

import click

from services.cli.context import CliContext
from services.cli.users import run


@click.group("items")
def items() -> None:
    """Items created from mail."""


@items.command("list")
@click.option("--json", "as_json", is_flag=True)
@click.option("--limit", default=50, show_default=True)
@click.option("--status", default=None)
@click.option("--project", default=None)
@click.option("--type", "item_type", default=None)
@click.option("--search", "text", default=None, help="Text in the title or description.")
@click.pass_obj
def list_command(ctx: CliContext, as_json: bool, limit: int, status: str | None, project: str | None,
                 item_type: str | None, text: str | None) -> None:
    from services.app import items as app_items

    page = run(ctx, app_items.list_items, app_items.Filters(project=project, type=item_type, status=status, text=text),
               1, limit)
    rows = page.items
    if as_json:
        click.echo(json.dumps(rows, indent=2))
        return
    for r in rows:
        click.echo(f"{r['type']:<10} #{r['number']:<6} {r['status']:<8} {r['title']}")
    if not rows:
        click.echo("no items yet")


@items.command("show")
@click.argument("number", type=int)
@click.option("--type", "item_type", default=None, help="Item type (when several types share the number).")
@click.option("--json", "as_json", is_flag=True)
@click.pass_obj
def show_command(ctx: CliContext, number: int, item_type: str | None, as_json: bool) -> None:
    from services.app import items as app_items
    from services.app.itemviews import item_details
    from services.cli.itemviews import render

    data = run(ctx, lambda s: item_details(s, app_items.find_number(s, number, item_type)))
    click.echo(json.dumps(data, indent=2) if as_json else render(data))


@items.command("attachment")
@click.argument("number", type=int)
@click.argument("attachment_id", type=int)
@click.option("--type", "item_type", default=None)
@click.pass_obj
def attachment_command(ctx: CliContext, number: int, attachment_id: int, item_type: str | None) -> None:
    """Write an attachment's bytes to standard output: ``postroom items attachment 7 3 > file``."""
    from services.app import attachments
    from services.app import items as app_items
    from shared.store import store_from

    store = store_from(ctx.settings)
    found = run(ctx, lambda s: attachments.attachment(s, store, app_items.find_number(s, number, item_type),
                                                      attachment_id))
    click.echo(f"{found.filename} ({found.content_type}, {len(found.data)} bytes)", err=True)
    sys.stdout.buffer.write(found.data)
