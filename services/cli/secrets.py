"""``postroom secrets rotate``: re-seal every account's secrets under the newest key.

The rotation procedure: put a new key first in ``POSTROOM_SECRET_KEYS`` (the old ones after it, so
they still open what they sealed), restart the services, run this, then drop the old keys.
"""

from __future__ import annotations

import click
from sqlalchemy import select
from sqlalchemy.orm import Session

from services.cli.context import CliContext
from shared.secrets import SecretBox


class RotationFailed(Exception):
    pass


def rotate_all(session: Session, box: SecretBox) -> int:
    """Re-seal every account's secrets in ``session``'s transaction; return how many were re-sealed.
    Raises ``RotationFailed`` naming the first account no key opens (the caller rolls back)."""
    from shared.db.models import Account
    from shared.secrets import SecretsUnavailable

    rotated = 0
    for account in session.scalars(select(Account).where(Account.sealed_secrets.is_not(None)).order_by(Account.id)):
        try:
            account.sealed_secrets = box.rotate(account.sealed_secrets)
        except SecretsUnavailable as exc:
            raise RotationFailed(f"account {account.name!r}: {exc}") from None
        rotated += 1
    return rotated


@click.group("secrets")
def secrets() -> None:
    """The keys sealing account secrets."""


@secrets.command("rotate")
@click.option("--dry-run", is_flag=True, help="Check that every secret opens; change nothing.")
@click.pass_obj
def rotate_command(ctx: CliContext, dry_run: bool) -> None:
    """Re-seal every account's secrets under the newest key, in one transaction (all or nothing)."""
    from shared.secrets import SecretsUnavailable

    box = ctx.secret_box
    try:
        with ctx.sessions() as session, session.begin():
            count = rotate_all(session, box)
            if dry_run:
                session.rollback()
    except (RotationFailed, SecretsUnavailable) as exc:
        raise click.ClickException(f"{exc}; nothing was changed") from None
    verb = "would re-seal" if dry_run else "re-sealed"
    click.echo(f"{verb} the secrets of {count} account(s) under the newest key")
    if box.key_count == 1:
        click.echo("note: only one key is configured, so the secrets are sealed under the same key as before; "
                   "to rotate, put a new key first in POSTROOM_SECRET_KEYS, keep the old one after it, run this, "
                   "then remove the old key")
