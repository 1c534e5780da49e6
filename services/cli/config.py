"""``postroom config apply -f FILE``: the tracker's catalog and the accounts, from one YAML file."""

from __future__ import annotations

from pathlib import Path

import click

from services.cli.accountinput import refused
from services.cli.context import CliContext
from services.cli.invalid import refuse


@click.group("config")
def config() -> None:
    """Projects, users, customers, statuses, workflow steps, custom fields and accounts."""


@config.command("apply")
@click.option("-f", "--file", "path", type=click.Path(exists=True, dir_okay=False, path_type=Path), required=True)
@click.option("--dry-run", is_flag=True, help="Show what would change; change nothing.")
@click.pass_obj
def apply_command(ctx: CliContext, path: Path, dry_run: bool) -> None:
    """Create or update everything FILE declares (idempotent); accounts are checked against the catalog."""
    import yaml
    from pydantic import ValidationError

    from services.app.accountedits import apply_config_file
    from services.app.actors import OPERATOR

    notes: list[str] = []
    try:
        with refused(), ctx.sessions() as session, session.begin():
            changes = apply_config_file(session, OPERATOR, path, ctx.secret_box, notes=notes)
            if dry_run:
                session.rollback()
    except (ValidationError, yaml.YAMLError) as exc:
        raise refuse(path, exc) from None
    for note in notes:
        click.echo(f"warning: {note}", err=True)
    for line in changes or ["no changes"]:
        click.echo(line)
