"""Running ``postroom accounts ...`` against one test database and secret key."""

from __future__ import annotations

from typing import Any

from click.testing import Result
from sqlalchemy import select

from shared.db.models import Account
from tests.support.cli import postroom


class AccountsCli:
    def __init__(self, database_url: str, secret_key: str) -> None:
        self.env = {"DATABASE_URL": database_url, "POSTROOM_SECRET_KEYS": secret_key}
        self.outputs: list[str] = []  # everything any command printed, for the scan for secrets

    def __call__(self, *args: str, input: str | None = None) -> Result:  # noqa: A002 (click's name)
        result = postroom(self.env, "accounts", *args, input=input)
        self.outputs.append(result.output)
        return result


def stored(sessions: Any, name: str) -> Account | None:
    with sessions() as session:
        return session.scalar(select(Account).where(Account.name == name))
