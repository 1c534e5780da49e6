"""The ``postroom`` command line."""

from __future__ import annotations

import click

from services.cli.accounts import accounts
from services.cli.breakers import breakers
from services.cli.config import config
from services.cli.contacts import contacts
from services.cli.context import CliContext
from services.cli.db import db
from services.cli.dlq import dlq
from services.cli.held import held
from services.cli.ingest import ingest_command
from services.cli.items import items
from services.cli.outbox import outbox_command
from services.cli.parse import parse_command
from services.cli.queues import queues_command
from services.cli.retention import retention
from services.cli.run import run_command
from services.cli.secrets import secrets
from services.cli.simulate import simulate_command
from services.cli.sink import sink_command
from services.cli.templates import templates
from services.cli.up import up_command
from services.cli.users import tokens, users


@click.group()
@click.version_option(package_name="postroom", prog_name="postroom", message="%(prog)s %(version)s")
@click.pass_context
def cli(ctx: click.Context) -> None:
    """Postroom: mail in connected mailboxes becomes tracker items."""
    ctx.obj = CliContext()


for command in (accounts, config, contacts, db, dlq, held, ingest_command, items, parse_command, queues_command,
                retention, run_command, secrets, simulate_command, sink_command, templates, tokens, up_command, users,
                breakers, outbox_command):
    cli.add_command(command)


def main() -> None:
    cli()
