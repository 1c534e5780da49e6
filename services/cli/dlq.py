"""``postroom dlq list | show | preview | replay | discard``: the dead letters of every consumer.

Reading never loses a letter (see ``shared.broker.admin.DeadLetterInbox``); a replay goes back to
the failed consumer's own work queue with its attempt count reset and is removed from the DLQ only
after the broker confirmed it; a discard removes exactly one. ``preview`` (or ``show --preview``)
says what a replay would do to the mail a letter carries, with the current rules (``postroom
simulate``'s answer; it reads the database and the blob store and writes nothing).
"""

from __future__ import annotations

import json
import sys
from typing import Any

import click

from services.cli.context import CliContext

_stage_option = click.option("--stage", "--queue", "stage", default=None, metavar="STAGE|QUEUE",
                             help="Only this consumer's DLQ (parser, itemwriter, notifier, or a queue name).")


def _letters(ctx: CliContext):  # type: ignore[no-untyped-def]
    from services.app.deadletters import DeadLetters
    from shared.service import topology_from

    return DeadLetters(ctx.settings.amqp_url, topology_from(ctx.settings))


def _run(operation: Any, *args: Any) -> Any:
    from services.app.actors import OPERATOR
    from services.app.errors import AppError

    try:
        return operation(OPERATOR, *args)
    except AppError as exc:
        if exc.field == "stage":
            raise click.BadParameter(exc.message, param_hint="--stage") from None
        raise click.ClickException(exc.message) from None


@click.group("dlq")
def dlq() -> None:
    """Dead letters: messages a consumer gave up on, with why."""


@dlq.command("list")
@_stage_option
@click.option("--limit", type=int, default=None, help="At most this many per queue.")
@click.option("--json", "as_json", is_flag=True)
@click.pass_obj
def list_command(ctx: CliContext, stage: str | None, limit: int | None, as_json: bool) -> None:
    """Every dead letter: id, stage, attempts, when, and the reason."""
    rows = _run(_letters(ctx).letters, stage, limit)
    if as_json:
        click.echo(json.dumps(rows, indent=2))
        return
    for r in rows:
        attempts = "-" if r["attempts"] is None else r["attempts"]
        click.echo(f"{r['id']:<36}  {r['stage']:<10} {attempts!s:>3}x  {(r['dead_at'] or '-')[:19]}  "
                   f"{r['reason'][:100]}" + (f" ({r['copies']} copies)" if r["copies"] > 1 else ""))
    click.echo(f"{len(rows)} dead letter(s)" if rows else "no dead letters")


def _preview(ctx: CliContext, ident: str, stage: str | None) -> dict[str, Any]:
    from services.app.preview import would_happen
    from shared.store import store_from
    from shared.tokens import ItemTokens

    tokens = ItemTokens(ctx.settings.item_token_format, ctx.settings.resolved_token_secret)
    store = store_from(ctx.settings)
    return dict(_run(_letters(ctx).preview, ident, stage,
                     lambda fetched: would_happen(ctx.sessions, store, tokens, fetched)))


def _render_preview(result: dict[str, Any]) -> str:
    from services.cli.simulate import render

    head = f"if replayed: {result['summary']}"
    return head if result["change"] in (None, "refused") else head + "\n" + render(result)


@dlq.command("show")
@click.argument("ident", metavar="ID")
@_stage_option
@click.option("--raw", is_flag=True, help="Write the raw mail from the blob store to standard output.")
@click.option("--preview", "with_preview", is_flag=True, help="Add what a replay would do (see 'dlq preview').")
@click.option("--json", "as_json", is_flag=True)
@click.pass_obj
def show_command(ctx: CliContext, ident: str, stage: str | None, raw: bool, with_preview: bool,
                 as_json: bool) -> None:
    """One dead letter in full: reason, exception, attempts, the mail it carries."""
    info, letter = _run(_letters(ctx).show, ident, stage)
    if raw:
        _write_raw(ctx, info["raw"])
        return
    preview = _preview(ctx, letter.id, letter.consumer) if with_preview else None
    if as_json:
        click.echo(json.dumps({**info, "preview": preview} if preview else info, indent=2))
        return
    for key in ("id", "queue", "stage", "type", "correlation_id", "account", "attempts", "dead_at", "replays",
                "reason", "exception", "mail_message_id", "subject", "raw", "raw_size"):
        if info.get(key) is not None:
            click.echo(f"{key + ':':<16} {info[key]}")
    if info["copies"] > 1:
        click.echo(f"{'copies:':<16} {info['copies']} (dead-lettered again before the first was settled: "
                   "one replay or discard takes them all)")
    if not info["decodable"]:
        click.echo(f"{'body:':<16} {letter.body[:500]!r}")
    if preview is not None:
        click.echo(_render_preview(preview))


@dlq.command("preview")
@click.argument("ident", metavar="ID")
@_stage_option
@click.option("--json", "as_json", is_flag=True)
@click.pass_obj
def preview_command(ctx: CliContext, ident: str, stage: str | None, as_json: bool) -> None:
    """What replaying ID would do to its mail with the current rules; nothing is written."""
    result = _preview(ctx, ident, stage)
    click.echo(json.dumps(result, indent=2) if as_json else _render_preview(result))


def _write_raw(ctx: CliContext, key: str | None) -> None:
    from shared.store import BlobNotFound, store_from

    if not key:
        raise click.ClickException("this dead letter carries no raw mail reference")
    try:
        data = store_from(ctx.settings).get(key)
    except BlobNotFound:
        raise click.ClickException(f"{key} is not in the blob store at {ctx.settings.resolved_store_dir}") from None
    sys.stdout.buffer.write(data)
    sys.stdout.buffer.flush()


@dlq.command("replay")
@click.argument("ident", metavar="[ID]", required=False)
@click.option("--all", "replay_all", is_flag=True, help="Every dead letter (of --stage, if given).")
@_stage_option
@click.pass_obj
def replay_command(ctx: CliContext, ident: str | None, replay_all: bool, stage: str | None) -> None:
    """Send ID (or --all) back to the consumer that failed, with a fresh attempt count."""
    if bool(ident) == replay_all:
        raise click.UsageError("give one ID or --all")
    done = _run(_letters(ctx).replay, None if replay_all else ident, stage)
    for letter_id, queue in done:
        click.echo(f"replayed {letter_id} to {queue}")
    if replay_all:
        click.echo(f"{len(done)} dead letter(s) replayed")


@dlq.command("discard")
@click.argument("ident", metavar="ID")
@_stage_option
@click.option("--yes", is_flag=True, help="Do not ask.")
@click.pass_obj
def discard_command(ctx: CliContext, ident: str, stage: str | None, yes: bool) -> None:
    """Remove one dead letter for good (its raw mail stays in the blob store)."""
    letters = _letters(ctx)
    if not yes:
        # Asked with the letters given back: a person may take a while, and the letters we hold
        # are invisible to everyone else meanwhile. The id is stable, so it is found again after.
        info, letter = _run(letters.show, ident, stage)
        click.confirm(f"Discard {letter.id} from {letter.dlq} ({letter.reason[:80]})?", abort=True)
        stage, ident = letter.consumer, letter.id
    click.echo(f"discarded {_run(letters.discard, ident, stage)}")
