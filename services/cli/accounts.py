"""``postroom accounts ...``"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from services.cli.connect import connect_command, tokens_command
from services.cli.accountinput import refused
from services.cli.context import CliContext
from services.cli.invalid import refuse


@click.group("accounts")
def accounts() -> None:
    """Connected mailboxes."""


accounts.add_command(connect_command)
accounts.add_command(tokens_command)


@accounts.command("apply")
@click.option("-f", "--file", "path", type=click.Path(exists=True, dir_okay=False, path_type=Path), required=True)
@click.option("--dry-run", is_flag=True, help="Show what would change; change nothing.")
@click.pass_obj
def apply_command(ctx: CliContext, path: Path, dry_run: bool) -> None:
    """Create or update the accounts declared in FILE (idempotent); all or nothing: an account that is
    not valid, or names a project, creator, status, step or field the catalog does not have, and none
    is stored."""
    import yaml

    from services.app.accountedits import apply_accounts_file
    from services.app.actors import OPERATOR

    notes: list[str] = []
    try:
        with refused(), ctx.sessions() as session, session.begin():
            changes = apply_accounts_file(session, OPERATOR, path, ctx.secret_box, notes=notes)
            if dry_run:
                session.rollback()
    except yaml.YAMLError as exc:
        raise refuse(path, exc) from None
    for note in notes:
        click.echo(f"warning: {note}", err=True)
    for line in changes or ["no changes"]:
        click.echo(line)


@accounts.command("folders")
@click.argument("name")
@click.pass_obj
def folders_command(ctx: CliContext, name: str) -> None:
    """List the folders of account NAME's mailbox (IMAP, Graph with subfolders as paths and their ids,
    Gmail labels); the one it reads is marked '*'."""
    from services.app.accountchecks import folders
    from services.app.actors import OPERATOR
    from shared.mailboxes.folders import FolderChoice

    with refused():
        found = folders(ctx.sessions, OPERATOR, name, ctx.secret_box)
    for choice in found:
        click.echo(FolderChoice(choice["id"], choice["path"], choice["selected"], tuple(choice["flags"])).line())


@accounts.command("show")
@click.argument("name")
@click.option("--json", "as_json", is_flag=True)
@click.option("--watch", is_flag=True, help="Follow the import until nothing is left to go: a progress bar on a "
                                            "terminal, else a line whenever it moves.")
@click.option("--interval", default=2.0, show_default=True, help="Seconds between readings with --watch.")
@click.pass_obj
def show_command(ctx: CliContext, name: str, as_json: bool, watch: bool, interval: float) -> None:
    """Account NAME: who reads it, its health, import progress, mails that could not be fetched, and
    what becomes of its mail (item settings, replies, auto-reply, templates)."""
    import json

    from services.app.accounts import report as account_report
    from services.app.actors import OPERATOR
    from shared.accounts.report import render_settings, render_text

    if watch:
        from services.cli.progress import follow

        def read() -> dict[str, Any] | None:
            with refused(), ctx.sessions() as session:
                return account_report(session, OPERATOR, name)["progress"]

        follow(read, interval)
        return
    with refused(), ctx.sessions() as session:
        report = account_report(session, OPERATOR, name)
    if as_json:
        click.echo(json.dumps(report, indent=2))
        return
    for line in render_text(report) + render_settings(report["settings"]):
        click.echo(line)
    click.echo(f"  sender verification trusts: {report['trust']}")


# Managing accounts one by one (list, add, edit, copy, delete, activate, deactivate, test).
from services.cli.accounts_manage import MANAGE_COMMANDS  # noqa: E402 (after the group it extends)

for _command in MANAGE_COMMANDS:
    accounts.add_command(_command)
