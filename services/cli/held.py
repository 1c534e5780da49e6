"""``postroom held list | show | preview | release | discard``: mail the rules held back (our own
mail come back, mail for an inactive account), with the rule and why.

A release shows first what would happen (``postroom simulate``'s answer, nothing written), then
queues the mail for the pipeline again and publishes it at once; with the broker away it stays
queued and the API's relay publishes it. A discard deletes the record; the raw mail stays stored.
"""

from __future__ import annotations

import json
from typing import Any

import click

from services.cli.context import CliContext


def _in_transaction(ctx: CliContext, operation: Any, *args: Any, **kwargs: Any) -> Any:
    """``operation(session, OPERATOR, *args, **kwargs)`` in one transaction, its refusal a click error."""
    from services.app.actors import OPERATOR
    from services.app.errors import AppError
    from shared.db.engine import transaction

    try:
        with transaction(ctx.sessions) as session:
            return operation(session, OPERATOR, *args, **kwargs)
    except AppError as exc:
        if exc.field:
            raise click.BadParameter(exc.message, param_hint=f"--{exc.field}") from None
        raise click.ClickException(exc.message) from None


def _tokens(ctx: CliContext) -> Any:
    from shared.tokens import ItemTokens

    return ItemTokens(ctx.settings.item_token_format, ctx.settings.resolved_token_secret)


def _store(ctx: CliContext) -> Any:
    from shared.store import store_from

    return store_from(ctx.settings)


def _preview(ctx: CliContext, held_id: int, override: bool) -> dict[str, Any]:
    from services.app import held
    from services.app.actors import OPERATOR
    from services.app.errors import AppError

    try:
        return held.preview(ctx.sessions, _store(ctx), _tokens(ctx), OPERATOR, held_id, override=override)
    except AppError as exc:
        raise click.ClickException(exc.message) from None


def _render_preview(result: dict[str, Any]) -> str:
    from services.cli.simulate import render

    head = f"if released{' with the rule ' + result['rule'] + ' set aside' if result['override'] else ''}: " \
           f"{result['summary']}"
    return head if result["change"] == "refused" else head + "\n" + render(result)


@click.group("held")
def held() -> None:
    """Mail the rules held back instead of making an item: list, inspect, release, discard."""


@held.command("list")
@click.option("--account", default=None)
@click.option("--rule", default=None, help="Only mail held by this rule (own-mail, inactive-account).")
@click.option("--released", is_flag=True, help="Mail released already, instead of mail still held.")
@click.option("--limit", type=int, default=50, show_default=True)
@click.option("--offset", type=int, default=0)
@click.option("--json", "as_json", is_flag=True)
@click.pass_obj
def list_command(ctx: CliContext, account: str | None, rule: str | None, released: bool, limit: int, offset: int,
                 as_json: bool) -> None:
    """Held mail, newest first: id, account, rule, when, sender, subject, and why."""
    from services.app import held as app

    page = _in_transaction(ctx, app.held_mails, account=account, rule=rule,
                           state="released" if released else "held", limit=limit, offset=offset)
    if as_json:
        click.echo(json.dumps(page, indent=2))
        return
    for r in page["mails"]:
        click.echo(f"{r['id']:>6}  {r['account']:<14} {r['rule']:<17} {(r['held_at'] or '-')[:19]}  "
                   f"{(r['from'] or '-')[:30]:<30}  {r['subject'][:40]!r}  {r['reason'][:80]}")
    shown = len(page["mails"])
    click.echo(f"{shown} of {page['total']} {'released' if released else 'held'} mail(s)" if page["total"]
               else ("no released mail" if released else "no held mail"))


@held.command("show")
@click.argument("held_id", type=int, metavar="ID")
@click.option("--json", "as_json", is_flag=True)
@click.pass_obj
def show_command(ctx: CliContext, held_id: int, as_json: bool) -> None:
    """One held mail: why it was held, its headers, and its trace."""
    from services.app import held as app

    info = _in_transaction(ctx, app.show, _store(ctx), held_id)
    if as_json:
        click.echo(json.dumps(info, indent=2))
        return
    for key in ("id", "state", "account", "rule", "reason", "held_at", "times_held", "message_id", "from",
                "subject", "classification", "source_id", "raw", "released_at", "released_by"):
        if info.get(key) is not None:
            click.echo(f"{key + ':':<16} {info[key]}")
    item = info["trace"]["item"]
    if item:
        click.echo(f"{'now on:':<16} {item['type']} #{item['number']}")
    click.echo("headers:" if info["headers"] is not None else "headers:        (the raw mail is no longer stored)")
    for name, value in info["headers"] or []:
        click.echo(f"  {name}: {value[:200]}")


_override_option = click.option("--override", is_flag=True,
                                help="Set the rule that held the mail aside for this one mail.")


@held.command("preview")
@click.argument("held_id", type=int, metavar="ID")
@_override_option
@click.option("--json", "as_json", is_flag=True)
@click.pass_obj
def preview_command(ctx: CliContext, held_id: int, override: bool, as_json: bool) -> None:
    """What a release would do now, with the current rules; nothing is written."""
    result = _preview(ctx, held_id, override)
    click.echo(json.dumps(result, indent=2) if as_json else _render_preview(result))


@held.command("release")
@click.argument("held_id", type=int, metavar="ID")
@_override_option
@click.option("--yes", is_flag=True, help="Do not show the preview and ask.")
@click.pass_obj
def release_command(ctx: CliContext, held_id: int, override: bool, yes: bool) -> None:
    """Process the mail again: with the current rules, or with its rule set aside (--override)."""
    from services.app import held as app
    from services.app.outgoing import Relay

    if not yes:
        click.echo(_render_preview(_preview(ctx, held_id, override)))
        click.confirm(f"Release held mail {held_id}?", abort=True)
    done = _in_transaction(ctx, app.release, held_id, override=override)
    click.echo(f"released {done['released']}"
               f"{' with the rule ' + done['rule'] + ' set aside' if override else ''}")
    try:
        broker = ctx.broker()
        try:
            Relay(ctx.sessions, broker).publish_pending()
        finally:
            broker.close()
    except Exception as exc:  # the broker away: the message waits in the outbox for the API's relay
        click.echo(f"queued; not published yet ({type(exc).__name__}): the API's relay publishes it", err=True)


@held.command("discard")
@click.argument("held_id", type=int, metavar="ID")
@click.option("--yes", is_flag=True, help="Do not ask.")
@click.pass_obj
def discard_command(ctx: CliContext, held_id: int, yes: bool) -> None:
    """Delete the record of a held mail for good (its raw mail stays in the blob store)."""
    from services.app import held as app

    if not yes:
        info = _in_transaction(ctx, app.show, _store(ctx), held_id)
        click.confirm(f"Discard held mail {held_id} ({info['rule']}: {info['subject'][:60]!r})?", abort=True)
    click.echo(f"discarded {_in_transaction(ctx, app.discard, held_id)['discarded']}")
