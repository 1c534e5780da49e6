"""``postroom items list|show``"""

from __future__ import annotations

import json
from typing import Any

import click

from services.cli.context import CliContext


def _item_dict(item: Any, full: bool) -> dict[str, Any]:
    data = {"id": item.id, "type": item.type, "number": item.number, "project": item.project,
            "title": item.title, "status": item.status, "account": item.account, "automatic": item.automatic,
            "created_at": item.created_at.isoformat(), "updated_at": item.updated_at.isoformat(),
            "mails": len(item.mails)}
    if full:
        data["description"] = item.description
        data["mails"] = [{"direction": m.direction, "message_id": m.message_id, "subject": m.subject,
                          "from": m.from_address, "classification": m.classification,
                          "matched_by": m.matched_by, "text": m.text, "raw_key": m.raw_key,
                          "created_at": m.created_at.isoformat()} for m in item.mails]
        data["attachments"] = [{"filename": a.filename, "content_type": a.content_type, "size": a.size,
                                "sha256": a.sha256, "blob_key": a.blob_key} for a in item.attachments]
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
        rows = [_item_dict(i, False) for i in session.scalars(select(Item).order_by(Item.id.desc()).limit(limit))]
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

    from shared.db.models import Item

    with ctx.sessions() as session:
        query = select(Item).where(Item.number == number)
        if item_type:
            query = query.where(Item.type == item_type)
        found = session.scalars(query.order_by(Item.id)).all()
        if not found:
            raise click.ClickException(f"no item #{number}")
        data = _item_dict(found[0], True)
    if as_json:
        click.echo(json.dumps(data, indent=2))
        return
    click.echo(f"{data['type']} #{data['number']}: {data['title']}\nstatus: {data['status']}   project: "
               f"{data['project']}   account: {data['account']}\n\n{data['description']}\n")
    for m in data["mails"]:
        click.echo(f"  {m['direction']:<3} {m['created_at'][:19]} {m['from'] or '-'}  {m['subject']}\n"
                   f"      [{m['classification']}; {m['matched_by']}]")
    for a in data["attachments"]:
        click.echo(f"  attachment: {a['filename']} ({a['content_type']}, {a['size']} bytes)")
