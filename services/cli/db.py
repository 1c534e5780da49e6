"""``postroom db upgrade``"""

import click

from services.cli.context import CliContext


@click.group("db")
def db() -> None:
    """The database schema."""


@db.command("upgrade")
@click.pass_obj
def upgrade_command(ctx: CliContext) -> None:
    """Apply every pending migration."""
    from shared.db.engine import make_engine
    from shared.db.migrate import upgrade

    ctx.settings.var_dir.mkdir(parents=True, exist_ok=True)
    upgrade(make_engine(ctx.settings.resolved_database_url))
    click.echo("database schema is up to date")
