"""``postroom accounts ...``"""

from __future__ import annotations

from pathlib import Path

import click

from services.cli.connect import connect_command, tokens_command
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
    """Create or update the accounts declared in FILE (idempotent)."""
    from pydantic import ValidationError

    from shared.accounts.specs import apply_specs, load_specs

    try:
        specs = load_specs(path)
    except ValidationError as exc:
        raise refuse(path, exc) from None
    with ctx.sessions() as session, session.begin():
        changes = apply_specs(session, specs, Path.cwd(), ctx.secret_box)
        if dry_run:
            session.rollback()
    for line in changes or ["no changes"]:
        click.echo(line)


@accounts.command("folders")
@click.argument("name")
@click.pass_obj
def folders_command(ctx: CliContext, name: str) -> None:
    """List the folders of IMAP account NAME's server (the one it reads is marked '*')."""
    from sqlalchemy import select

    from shared.mailboxes.failures import classify
    from shared.mailboxes.folders import list_folders
    from shared.mailboxes.mailconfig import password_from
    from shared.db.models import Account

    with ctx.sessions() as session:
        account = session.scalar(select(Account).where(Account.name == name))
        if account is None:
            raise click.ClickException(f"unknown account {name!r}")
        if account.kind != "imap":
            raise click.ClickException(f"{name} is a {account.kind} account: only IMAP accounts have folders")
        config, sealed = dict(account.config), account.sealed_secrets
    try:
        lines = list_folders(config, password_from(ctx.secret_box.open(sealed)))
    except Exception as exc:
        error = classify(exc)
        raise click.ClickException(f"{name}: {error.kind} error: {error}") from None
    for line in lines:
        click.echo(line)


@accounts.command("show")
@click.argument("name")
@click.option("--json", "as_json", is_flag=True)
@click.pass_obj
def show_command(ctx: CliContext, name: str, as_json: bool) -> None:
    """Account NAME: who reads it, its health, import progress, mails that could not be fetched."""
    import json

    from sqlalchemy import select

    from shared.accounts.report import account_report, render_text
    from shared.items.authentication import trust_summary
    from shared.db.models import Account

    with ctx.sessions() as session:
        report = account_report(session, name)
        account = session.scalar(select(Account).where(Account.name == name))
    if report is None or account is None:
        raise click.ClickException(f"unknown account {name!r}")
    report["items"] = {key: getattr(account, key) for key in ITEM_SETTINGS}
    report["trust"] = trust_summary(account.kind, account.trusted_authserv_ids or [])
    if as_json:
        click.echo(json.dumps(report, indent=2))
        return
    for line in render_text(report):
        click.echo(line)
    click.echo("  items: " + ", ".join(f"{k}={v!r}" for k, v in report["items"].items() if k != "trusted_authserv_ids"))
    click.echo(f"  sender verification trusts: {report['trust']}")


# What the itemwriter does with the account's mail, as `accounts show` lists it.
ITEM_SETTINGS = ("item_type", "project", "creator", "auto_reply", "field_mapping", "default_values",
                 "save_attachments", "add_sender_to_notify", "map_senders", "quiet_on_create", "reply_status",
                 "reply_moves_step", "reopen_closed", "attribute_forwards", "trusted_authserv_ids",
                 "require_verified_sender_for_append", "auto_reply_same_thread")


# Managing accounts one by one (list, add, edit, copy, delete, activate, deactivate, test).
from services.cli.accounts_manage import MANAGE_COMMANDS  # noqa: E402 (after the group it extends)

for _command in MANAGE_COMMANDS:
    accounts.add_command(_command)
