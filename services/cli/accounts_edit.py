"""``postroom accounts edit NAME`` and ``copy NAME NEW``: change an account, or start a new one from it."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import click

from services.cli.accountinput import invalid, parse_sets, secret_from_stdin, with_sets
from services.cli.context import CliContext


def opened(name: str, read: Callable[[], dict[str, Any]]) -> dict[str, Any]:
    """The account's values with its secrets opened, or a refusal naming the key problem."""
    from shared.secrets import SecretsUnavailable

    try:
        return read()
    except SecretsUnavailable as exc:
        raise click.ClickException(f"{name}: {exc}") from None


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
    from pydantic import ValidationError

    from shared.accounts.edit import diff_lines, find_account, spec_values, store

    changes = parse_sets(sets)
    if "name" in changes or "name" in unsets:
        raise click.UsageError("an account's name cannot change (its state is kept by name): "
                               "copy it to the new name, then delete the old one")
    from services.app.accounts import wake

    secret = secret_from_stdin(password_stdin, app_password_stdin, client_secret_stdin)
    with ctx.sessions() as session, session.begin():
        account = find_account(session, name)
        if account is None:
            raise click.ClickException(f"unknown account {name!r}")
        before = opened(name, lambda: spec_values(account, ctx.secret_box))
        after = with_sets({k: v for k, v in before.items() if k not in unsets}, changes) | secret
        lines = diff_lines(before, after)
        if not lines:
            click.echo(f"{name}: no changes")
            return
        try:
            store(session, after, ctx.secret_box)
        except ValidationError as exc:
            raise invalid(name, exc, before | secret) from None
        wake(session, name)  # a fixed setting is tried at once, not after the back-off
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
    from pydantic import ValidationError

    from shared.accounts.edit import find_account, spec_values, store

    with ctx.sessions() as session, session.begin():
        source = find_account(session, name)
        if source is None:
            raise click.ClickException(f"unknown account {name!r}")
        if find_account(session, new) is not None:
            raise click.ClickException(f"account {new!r} exists already")
        values = opened(name, lambda: spec_values(source, ctx.secret_box)) | {"name": new, "active": False}
        if address:
            values["address"] = address
        if source.kind == "dropfolder" and Path(values["path"]).name == name:
            values["path"] = str(Path(values["path"]).with_name(new))  # a folder of its own, named after it
        try:
            store(session, values, ctx.secret_box)
        except ValidationError as exc:
            raise invalid(new, exc, values) from None
    click.echo(f"+ {new} ({source.kind}, {values['address']}), a copy of {name}: inactive")
    if source.kind in ("imap", "pop3"):
        click.echo(f"  it reads the same mailbox as {name}: change it (postroom accounts edit {new} --set "
                   f"user=...) or deactivate {name} before 'postroom accounts activate {new}'")
    else:
        click.echo(f"  start it with 'postroom accounts activate {new}'")
