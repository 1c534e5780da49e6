"""``postroom accounts list | add | edit | copy | delete | activate | deactivate | test``: managing
accounts one by one (``apply`` declares them from a file; both store through ``apply_specs``)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import click

from services.cli.accountinput import redact
from services.cli.accounts_add import add_command
from services.cli.accounts_edit import copy_command, edit_command
from services.cli.context import CliContext

if TYPE_CHECKING:
    from shared.accounts.overview import TokenExpiryReader


def token_expiry_readers() -> Mapping[str, TokenExpiryReader]:
    """Kind -> reader of its accounts' token expiry (shared/accounts/overview.py, ``TokenExpiryReader``):
    for an OAuth sign-in, when it lapses without an operator (the refresh token's known lifetime or
    the client secret's end), else when the access token expires."""
    return {kind: _oauth_expiry for kind in ("graph", "gmail", "imap", "pop3")}


def _oauth_expiry(session: Any, names: list[str]) -> dict[str, Any]:
    from datetime import UTC, datetime

    from sqlalchemy import select

    from shared.db.models import Account, OAuthToken
    from shared.oauth.config import OAuthConfig
    from shared.oauth.health import token_health
    from shared.db.models import as_utc
    from shared.oauth.store import TokenRecord

    found: dict[str, Any] = {}
    for account in session.scalars(select(Account).where(Account.name.in_(names))):
        oauth, row = (account.config or {}).get("oauth"), session.get(OAuthToken, account.name)
        if not oauth:
            continue  # a password account: no token
        if row is None:
            found[account.name] = None  # not signed in yet
            continue
        record = TokenRecord(row.account, row.provider, row.flow, row.state, {}, as_utc(row.access_expires_at),
                             as_utc(row.refresh_issued_at), as_utc(row.consented_at), as_utc(row.last_refresh_at))
        health = token_health(record, OAuthConfig.model_validate(oauth), account.name, datetime.now(UTC))
        found[account.name] = health.lapses_at or health.access_expires_at
    return found


@click.command("list")
@click.option("--json", "as_json", is_flag=True)
@click.pass_obj
def list_command(ctx: CliContext, as_json: bool) -> None:
    """Every account on one line: active, last success, last error, backlog, token expiry."""
    import json

    from shared.accounts.overview import account_rows, render_rows

    with ctx.sessions() as session:
        rows = account_rows(session, token_expiry_readers())
    if as_json:
        click.echo(json.dumps(rows, indent=2))
    elif not rows:
        click.echo("no accounts: add one with 'postroom accounts add' or 'postroom accounts apply -f FILE'")
    else:
        for line in render_rows(rows):
            click.echo(line.rstrip())


def _signed_in(session: Any, name: str) -> bool:
    from shared.db.models import OAuthToken

    token = session.get(OAuthToken, name)
    return token is not None and token.sealed_cache is not None


def _set_active(ctx: CliContext, name: str, active: bool) -> None:
    from shared.accounts.edit import find_account, same_mailbox_readers

    with ctx.sessions() as session, session.begin():
        account = find_account(session, name)
        if account is None:
            raise click.ClickException(f"unknown account {name!r}")
        if account.active == active:
            click.echo(f"{name} is {'active' if active else 'inactive'} already")
            return
        if active and account.config.get("oauth") and not _signed_in(session, name):
            raise click.ClickException(f"{name} is not signed in yet: connect it first (postroom accounts connect "
                                       f"{name}), then activate it")
        if active and (others := same_mailbox_readers(session, account)):
            raise click.ClickException(f"the mailbox {name} reads is read by {', '.join(others)} already: every "
                                       "mail would be imported twice. Deactivate that one or change this one first")
        account.active = active
        if active:
            from services.app.accounts import wake

            wake(session, name)
    if active:
        click.echo(f"{name} is active: the fetcher starts reading it at its next tick")
    else:
        click.echo(f"{name} is inactive: the fetcher lets go of it at its next tick; its settings and "
                   "state are kept")


@click.command("activate")
@click.argument("name")
@click.pass_obj
def activate_command(ctx: CliContext, name: str) -> None:
    """Start fetching account NAME."""
    _set_active(ctx, name, True)


@click.command("deactivate")
@click.argument("name")
@click.pass_obj
def deactivate_command(ctx: CliContext, name: str) -> None:
    """Stop fetching account NAME; its settings, secrets and progress are kept."""
    _set_active(ctx, name, False)


@click.command("delete")
@click.argument("name")
@click.option("--yes", is_flag=True, help="Do not ask for confirmation.")
@click.pass_obj
def delete_command(ctx: CliContext, name: str, yes: bool) -> None:
    """Delete account NAME and its fetch state; the items and mails it imported stay."""
    from shared.accounts.edit import find_account
    from shared.accounts.state import forget_account, live_reader
    from shared.clock import as_utc

    with ctx.sessions() as session, session.begin():
        account = find_account(session, name)
        if account is None:
            raise click.ClickException(f"unknown account {name!r}")
        reader = live_reader(session, name)
        if reader is not None:
            # Deleting under a running reader would let it write health and cursors for a gone account.
            until = as_utc(reader.expires_at).isoformat(timespec="seconds")  # type: ignore[union-attr]
            raise click.ClickException(
                f"{name} is being read by fetcher {reader.holder} (lease until {until}): run "
                f"'postroom accounts deactivate {name}', wait until 'postroom accounts show {name}' says "
                "'read by: nobody', then delete it")
        if not yes:
            click.confirm(f"Delete account {name} ({account.kind}, {account.address}) and its fetch state? "
                          "Items and mails already imported stay", abort=True)
        removed = forget_account(session, name)
        session.delete(account)
    state = ", ".join(f"{table} {count}" for table, count in sorted(removed.items())) or "none"
    click.echo(f"- {name}; fetch state removed: {state}; items and their mails stay")


@click.command("test")
@click.argument("name")
@click.pass_obj
def test_command(ctx: CliContext, name: str) -> None:
    """Connect and log in as account NAME (OAuth accounts: with their stored sign-in): what is there, or
    which step failed (DNS, TCP, TLS, auth)."""
    from shared.accounts.edit import find_account
    from shared.mailboxes.probe import probe
    from shared.secrets import SecretsUnavailable

    with ctx.sessions() as session:
        account = find_account(session, name)
        if account is None:
            raise click.ClickException(f"unknown account {name!r}")
        kind, config = account.kind, dict(account.config)
        try:
            secrets = ctx.secret_box.open(account.sealed_secrets)
        except SecretsUnavailable as exc:
            raise click.ClickException(f"{name}: {exc}") from None
    result = probe(kind, config, secrets, account=name,
                   token=_account_token(ctx, name) if config.get("oauth") else None)
    if not result.ok:
        raise click.ClickException(redact(f"{name}: {result.summary}", secrets))
    from services.app.accounts import wake

    with ctx.sessions() as session, session.begin():  # it works now: the fetcher need not wait out its back-off
        wake(session, name)
    click.echo(redact(f"{name}: {result.summary}", secrets))
    if result.folders:
        click.echo(f"  {'labels' if kind == 'gmail' else 'folders'}: {', '.join(result.folders)}")
    if result.messages is not None:
        where = result.counted_in or (config.get("folder", "INBOX") if kind == "imap"
                                      else "maildrop" if kind == "pop3" else "folder")
        click.echo(f"  {where}: {result.messages} message(s)")


def _account_token(ctx: CliContext, name: str) -> Any:
    """The account's OAuth access token, from the fetcher's token provider."""
    from services.cli.connect import oauth_parts
    from shared.mailboxes.probe_oauth import AccountToken
    from shared.oauth.tokens import TokenProvider

    authenticators, store = oauth_parts(ctx)
    return AccountToken(name, TokenProvider(store, authenticators), store)


MANAGE_COMMANDS = (list_command, add_command, edit_command, copy_command, delete_command, activate_command,
                   deactivate_command, test_command)
