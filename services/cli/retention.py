"""``postroom retention run``: let go of raw mail and attachments past their time, prune the fetcher's
dedup records (services/app/retention.py says what is kept)."""

from __future__ import annotations

import click

from services.cli.context import CliContext


@click.group("retention")
def retention() -> None:
    """How long raw mail, attachments and fetch records are kept."""


@retention.command("run")
@click.option("--raw-days", type=int, default=None,
              help="Raw mail older than this (POSTROOM_RETENTION_RAW_DAYS; 0 keeps it).")
@click.option("--closed-days", type=int, default=None,
              help="Files of items closed this long (POSTROOM_RETENTION_CLOSED_DAYS; 0 keeps them).")
@click.option("--digest-days", type=int, default=None,
              help="Fetch dedup records (POSTROOM_RETENTION_DIGEST_DAYS, default 180; 0 keeps them).")
@click.option("--dry-run", is_flag=True, help="Say what would go; change nothing.")
@click.pass_obj
def run_command(ctx: CliContext, raw_days: int | None, closed_days: int | None, digest_days: int | None,
                dry_run: bool) -> None:
    from services.app import retention as app_retention
    from shared.store import store_from

    settings = ctx.settings
    policy = app_retention.Policy(
        raw_days=settings.retention_raw_days if raw_days is None else raw_days,
        closed_days=settings.retention_closed_days if closed_days is None else closed_days,
        digest_days=settings.retention_digest_days if digest_days is None else digest_days)
    with ctx.sessions() as session:
        with session.begin():
            report = app_retention.run(session, policy)
            if dry_run:
                session.rollback()
    if not dry_run:
        app_retention.delete_blobs(store_from(settings), report)
    click.echo(("dry run: " if dry_run else "") + "; ".join(report.lines()))
