"""``postroom ingest --account NAME < mail.eml``: how an MTA pipes a mail in."""

from __future__ import annotations

import hashlib
import sys

import click

from services.cli.context import CliContext

EX_TEMPFAIL = 75  # sysexits.h: the MTA keeps the mail and tries again later


@click.command("ingest")
@click.option("--account", required=True, help="The account the mail arrived for.")
@click.pass_obj
def ingest_command(ctx: CliContext, account: str) -> None:
    """Read one raw mail from standard input, store it and publish it."""
    from sqlalchemy import select

    from services.fetcher.ingest import ingest_raw
    from shared.db.models import Account
    from shared.store import store_from

    raw = sys.stdin.buffer.read()
    if not raw.strip():
        raise click.ClickException("no mail on standard input")
    try:
        with ctx.sessions() as session:
            if session.scalar(select(Account.id).where(Account.name == account)) is None:
                raise click.ClickException(f"unknown account {account!r}")
        broker = ctx.broker()
        broker.declare(connect_retries=1)  # an MTA waits on us: fail fast, it retries later
        envelope = ingest_raw(account=account, source="stdin",
                              source_id=f"stdin:{hashlib.sha256(raw).hexdigest()}", raw=raw,
                              store=store_from(ctx.settings), broker=broker)
        broker.close()
    except click.ClickException:
        raise
    except Exception as exc:
        click.echo(f"postroom ingest: not accepted, try again later: {type(exc).__name__}: {exc}", err=True)
        sys.exit(EX_TEMPFAIL)
    click.echo(envelope.message_id)
