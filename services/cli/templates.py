"""``postroom templates preview KIND``: a template rendered against the sample mail, a stored mail
(``--mail ID``) or an item's last mail (``--item N``), before it is stored. The operation is the
application layer's (services/app/templatepreview.py), which the API's preview calls too."""

from __future__ import annotations

import json
from pathlib import Path

import click

from services.cli.context import CliContext


@click.group("templates")
def templates() -> None:
    """The automatic mail's templates."""


def _source(value: str | None) -> str | None:
    """A template given as text, or as @FILE."""
    if value is not None and value.startswith("@"):
        return Path(value[1:]).read_text()
    return value


@templates.command("preview")
@click.argument("kind")
@click.option("--subject", help="The subject template (text, or @FILE).")
@click.option("--text", "text", help="The text template (text, or @FILE).")
@click.option("--html", help="The HTML template (text, or @FILE).")
@click.option("--account", help="Parts not given: this account's stored templates of KIND.")
@click.option("--mail", "mail_id", type=int, help="Render against this stored mail (its id, as items show lists it).")
@click.option("--item", "number", type=int, help="Render against item #N's last mail.")
@click.option("--type", "item_type", help="The item's type, when several share the number.")
@click.option("--json", "as_json", is_flag=True)
@click.pass_obj
def preview_command(ctx: CliContext, kind: str, subject: str | None, text: str | None, html: str | None,
                    account: str | None, mail_id: int | None, number: int | None, item_type: str | None,
                    as_json: bool) -> None:
    """Render template KIND (auto-reply, created, updated, status-changed); without --mail or
    --item, against the built-in sample mail. Exits 1 naming the template, line and reason when it
    would not render."""
    from services.app.actors import OPERATOR
    from services.app.errors import AppError
    from services.app.templatepreview import Against, preview
    from shared.tokens import ItemTokens

    if mail_id is not None and number is not None:
        raise click.UsageError("--mail and --item both name what to render against: choose one")
    parts = {p: v for p, v in (("subject", _source(subject)), ("text", _source(text)), ("html", _source(html))) if v}
    tokens = ItemTokens(ctx.settings.item_token_format, ctx.settings.resolved_token_secret)
    try:
        with ctx.sessions() as session:
            result = preview(session, OPERATOR, kind, parts, Against(mail_id, number, item_type), tokens,
                             ctx.settings.console_url, account)
    except AppError as exc:
        raise click.ClickException(exc.message) from None
    if as_json:
        click.echo(json.dumps(result, indent=2))
    elif not result["problems"]:
        click.echo(f"against: {result['against']}\nSubject: {result['subject']}\n\n-- text --\n{result['text']}")
        click.echo("-- html --\n" + (result["html"] if result["html"] is not None else "(none: a plain-text mail)"))
    if result["problems"]:
        raise click.ClickException("; ".join(p["message"] for p in result["problems"]))
