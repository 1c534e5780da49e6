"""``postroom accounts edit NAME`` and ``copy NAME NEW``: change an account, or start a new one from it."""

from __future__ import annotations

import click

from services.cli.accountinput import parse_sets, refused, secret_from_stdin
from services.cli.context import CliContext


@click.command("edit")
@click.argument("name")
@click.option("--set", "sets", multiple=True, metavar="KEY=VALUE",
              help="Set a field (value in YAML; oauth.KEY for one field of the oauth: block); repeatable.")
@click.option("--unset", "unsets", multiple=True, metavar="KEY", help="Remove an optional field; repeatable.")
@click.option("--password-stdin", is_flag=True, help="Read a new password from stdin's first line.")
@click.option("--app-password-stdin", is_flag=True, help="Read a new app password from stdin's first line.")
@click.option("--client-secret-stdin", is_flag=True,
              help="OAuth: read the app's new client secret from stdin's first line.")
@click.pass_obj
def edit_command(ctx: CliContext, name: str, sets: tuple[str, ...], unsets: tuple[str, ...], password_stdin: bool,
                 app_password_stdin: bool, client_secret_stdin: bool) -> None:
    """Change account NAME's fields; prints what changed (secrets as 'changed', never their values)."""
    from services.app.accountedits import edit_account
    from services.app.actors import OPERATOR

    changes = parse_sets(sets)
    if "name" in changes or "name" in unsets:
        raise click.UsageError("an account's name cannot change (its state is kept by name): "
                               "copy it to the new name, then delete the old one")
    secret = secret_from_stdin(password_stdin, app_password_stdin, client_secret_stdin)
    notes: list[str] = []
    with refused(), ctx.sessions() as session, session.begin():
        lines = edit_account(session, OPERATOR, name, changes, ctx.secret_box, unsets, secret, notes)
    for note in notes:
        click.echo(f"warning: {note}", err=True)
    if not lines:
        click.echo(f"{name}: no changes")
        return
    click.echo(f"~ {name}")
    for line in lines:
        click.echo(line)


@click.command("copy")
@click.argument("name")
@click.argument("new")
@click.option("--address", help="The copy's address (default: NAME's).")
@click.pass_obj
def copy_command(ctx: CliContext, name: str, new: str, address: str | None) -> None:
    """A new account NEW with NAME's settings and sealed secrets, inactive until activated."""
    from services.app.accountedits import copy_account
    from services.app.actors import OPERATOR

    with refused(), ctx.sessions() as session, session.begin():
        copied = copy_account(session, OPERATOR, name, new, ctx.secret_box, address)
    click.echo(f"+ {new} ({copied.kind}, {copied.address}), a copy of {name}: inactive")
    if copied.kind in ("imap", "pop3"):
        click.echo(f"  it reads the same mailbox as {name}: change it (postroom accounts edit {new} --set "
                   f"user=...) or deactivate {name} before 'postroom accounts activate {new}'")
    else:
        click.echo(f"  start it with 'postroom accounts activate {new}'")
