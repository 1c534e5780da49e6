"""``postroom accounts ...``"""

from __future__ import annotations

from pathlib import Path

import click

from services.cli.connect import connect_command, tokens_command
from services.cli.context import CliContext


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
    """Create or update the accounts declared in FILE (idempotent)."""
    from pydantic import ValidationError

    from services.fetcher.accounts import apply_specs, load_specs

    try:
        specs = load_specs(path)
    except ValidationError as exc:
        raise click.ClickException(f"{path}: {exc}") from None
    with ctx.sessions() as session, session.begin():
        changes = apply_specs(session, specs, Path.cwd(), ctx.secret_box)
        if dry_run:
            session.rollback()
    for line in changes or ["no changes"]:
        click.echo(line)
