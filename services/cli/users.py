"""``postroom users add|list|disable`` and ``postroom tokens create|list|revoke``: thin adapters over
the application layer (services/app)."""

from __future__ import annotations

import sys
from typing import Any

import click

from services.cli.context import CliContext


def run(ctx: CliContext, operation: Any, *args: Any, **kwargs: Any) -> Any:
    """One operation in one transaction; a refusal is a one-line error."""
    from services.app.errors import AppError
    from shared.db.engine import transaction

    try:
        with transaction(ctx.sessions) as session:
            return operation(session, *args, **kwargs)
    except AppError as exc:
        raise click.ClickException(exc.message) from None


@click.group("users")
def users() -> None:
    """People who sign in to the API and the console."""


@users.command("add")
@click.argument("email")
@click.option("--name", default="")
@click.option("--role", type=click.Choice(["admin", "agent"]), default="agent", show_default=True)
@click.option("--password-stdin", is_flag=True, help="Read the password from standard input instead of asking.")
@click.pass_obj
def add_command(ctx: CliContext, email: str, name: str, role: str, password_stdin: bool) -> None:
    from services.app import users as app_users

    password = (sys.stdin.readline().rstrip("\n") if password_stdin
                else click.prompt("Password", hide_input=True, confirmation_prompt=True))
    view = run(ctx, app_users.add_user, email, name=name, role=role, password=password)
    click.echo(f"user {view.email} ({view.role}) can sign in")


@users.command("list")
@click.pass_obj
def list_command(ctx: CliContext) -> None:
    from services.app import users as app_users

    for u in run(ctx, app_users.list_users):
        state = "active" if u.active else "disabled"
        click.echo(f"{u.email:<40} {u.role:<6} {state:<8} {'' if u.can_sign_in else '(no sign-in)'}")


@users.command("disable")
@click.argument("email")
@click.pass_obj
def disable_command(ctx: CliContext, email: str) -> None:
    from services.app import users as app_users

    run(ctx, app_users.disable_user, email)
    click.echo(f"user {email} disabled; their tokens and sessions no longer work")


@click.group("tokens")
def tokens() -> None:
    """API tokens for scripts: shown once, stored hashed, revocable."""


@tokens.command("create")
@click.option("--user", "email", required=True, help="Whose token (a user's email).")
@click.option("--name", required=True, help="What it is for, e.g. 'nightly export'.")
@click.pass_obj
def create_command(ctx: CliContext, email: str, name: str) -> None:
    from services.app import tokens as app_tokens
    from services.app.actors import OPERATOR

    view, secret = run(ctx, app_tokens.create_token, OPERATOR, email, name)
    click.echo(f"token {view.id} for {view.user} ({name}); it is shown this once:", err=True)
    click.echo(secret)


@tokens.command("list")
@click.option("--user", "email", default=None)
@click.pass_obj
def tokens_list_command(ctx: CliContext, email: str | None) -> None:
    from services.app import tokens as app_tokens
    from services.app.actors import OPERATOR

    for t in run(ctx, app_tokens.list_tokens, OPERATOR, email):
        used = t.last_used_at.isoformat()[:19] if t.last_used_at else "never used"
        click.echo(f"{t.id:>5} {t.user:<35} {t.name:<25} {used:<20} {'revoked' if t.revoked else 'active'}")


@tokens.command("revoke")
@click.argument("token_id", type=int)
@click.pass_obj
def revoke_command(ctx: CliContext, token_id: int) -> None:
    from services.app import tokens as app_tokens
    from services.app.actors import OPERATOR

    run(ctx, app_tokens.revoke_token, OPERATOR, token_id)
    click.echo(f"token {token_id} revoked")
