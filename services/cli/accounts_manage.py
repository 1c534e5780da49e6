"""``postroom accounts list | add | edit | copy | delete | activate | deactivate | test``: managing
accounts one by one (``apply`` declares them from a file; both store through ``apply_specs``)."""

from __future__ import annotations

import click

from services.cli.accountinput import refused
from services.cli.accounts_add import add_command
from services.cli.accounts_edit import copy_command, edit_command
from services.cli.context import CliContext


# What the first sync does with the mail in the mailbox, by existing_mail (docs/mailboxes.md#the-first-sync).
FIRST_SYNC = {"archive": "stored as closed items; nobody is answered; it is left on the server as it is",
              "import": "imported as new mail: open items, auto-replies, then the after-fetch action",
              "skip": "left alone: only mail that arrives later is imported"}


@click.command("list")
@click.option("--json", "as_json", is_flag=True)
@click.pass_obj
def list_command(ctx: CliContext, as_json: bool) -> None:
    """Every account on one line: active, last success, last error, backlog, token expiry."""
    import json

    from services.app.accounts import overview
    from services.app.actors import OPERATOR
    from shared.accounts.overview import render_rows

    with refused(), ctx.sessions() as session:
        rows = overview(session, OPERATOR)
    if as_json:
        click.echo(json.dumps(rows, indent=2))
    elif not rows:
        click.echo("no accounts: add one with 'postroom accounts add' or 'postroom accounts apply -f FILE'")
    else:
        for line in render_rows(rows):
            click.echo(line.rstrip())


def _set_active(ctx: CliContext, name: str, active: bool) -> None:
    from services.app.accounts import set_active
    from services.app.actors import OPERATOR

    with refused(), ctx.sessions() as session, session.begin():
        changed = set_active(session, OPERATOR, name, active)["changed"]
    if not changed:
        click.echo(f"{name} is {'active' if active else 'inactive'} already")
    elif active:
        click.echo(f"{name} is active: the fetcher starts reading it at its next tick")
    else:
        click.echo(f"{name} is inactive: the fetcher lets go of it at its next tick; its settings and "
                   "state are kept")


@click.command("activate")
@click.argument("name")
@click.pass_obj
def activate_command(ctx: CliContext, name: str) -> None:
    """Start fetching account NAME."""
    _set_active(ctx, name, True)


@click.command("deactivate")
@click.argument("name")
@click.pass_obj
def deactivate_command(ctx: CliContext, name: str) -> None:
    """Stop fetching account NAME; its settings, secrets and progress are kept."""
    _set_active(ctx, name, False)


@click.command("delete")
@click.argument("name")
@click.option("--yes", is_flag=True, help="Do not ask for confirmation.")
@click.pass_obj
def delete_command(ctx: CliContext, name: str, yes: bool) -> None:
    """Delete account NAME and its fetch state; the items and mails it imported stay."""
    from services.app.accountedits import deletable, delete_account
    from services.app.actors import OPERATOR

    with refused(), ctx.sessions() as session, session.begin():
        account = deletable(session, OPERATOR, name)
        if not yes:
            click.confirm(f"Delete account {name} ({account.kind}, {account.address}) and its fetch state? "
                          "Items and mails already imported stay", abort=True)
        removed = delete_account(session, OPERATOR, name)
    state = ", ".join(f"{table} {count}" for table, count in sorted(removed.items())) or "none"
    click.echo(f"- {name}; fetch state removed: {state}; items and their mails stay")


@click.command("test")
@click.argument("name")
@click.pass_obj
def test_command(ctx: CliContext, name: str) -> None:
    """Connect and log in as account NAME (OAuth accounts: with their stored sign-in): what is there, or
    which step failed (DNS, TCP, TLS, auth)."""
    from services.app.accountchecks import probe_account
    from services.app.actors import OPERATOR

    with refused():
        result = probe_account(ctx.sessions, OPERATOR, name, ctx.secret_box)
    if not result["ok"]:
        raise click.ClickException(result["summary"])
    click.echo(result["summary"])
    if result["folders"]:
        click.echo(f"  {'labels' if result['kind'] == 'gmail' else 'folders'}: {', '.join(result['folders'])}")
    if result["messages"] is not None:
        click.echo(f"  {result['counted_in']}: {result['messages']} message(s)")
    if result["first_sync"] is not None:
        click.echo(f"  first sync (existing_mail: {result['first_sync']}): the mail there now is "
                   f"{FIRST_SYNC[result['first_sync']]}")


MANAGE_COMMANDS = (list_command, add_command, edit_command, copy_command, delete_command, activate_command,
                   deactivate_command, test_command)
