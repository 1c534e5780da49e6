"""``postroom config apply -f FILE``: the tracker's catalog and the accounts, from one YAML file."""

from __future__ import annotations

from pathlib import Path

import click

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

    from shared.accounts.specs import AccountSpec, apply_specs
    from shared.items.declare import CatalogSpec, apply_catalog
    from shared.items.validation import account_problems

    try:
        data = yaml.safe_load(path.read_text()) or {}
        catalog = CatalogSpec.model_validate(data)
        specs = [AccountSpec.model_validate(a) for a in data.get("accounts", [])]
    except (ValidationError, yaml.YAMLError) as exc:
        raise refuse(path, exc) from None
    with ctx.sessions() as session, session.begin():
        try:
            changes = apply_catalog(session, catalog)
        except ValueError as exc:
            raise click.ClickException(f"{path}: {exc}") from None
        problems = [p for spec in specs for p in account_problems(session, spec)]
        if problems:
            raise click.ClickException(f"{path}: nothing applied:\n  " + "\n  ".join(problems))
        changes += [f"{line[:2]}account {line[2:]}" for line in apply_specs(session, specs, Path.cwd(),
                                                                            ctx.secret_box)]
        if dry_run:
            session.rollback()
    for line in changes or ["no changes"]:
        click.echo(line)
