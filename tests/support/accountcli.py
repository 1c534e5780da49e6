"""Running ``postroom accounts ...`` against one test database and secret key."""

from __future__ import annotations

from typing import Any

from click.testing import Result
from sqlalchemy import select

from shared.db.engine import make_engine, make_sessionmaker, transaction
from shared.db.models import Account
from shared.items.declare import CatalogSpec, ProjectSpec, apply_catalog
from tests.support.cli import postroom

# The projects the tests' accounts name, declared as ``postroom config apply`` would: an account whose
# project is not declared is refused (shared/items/validation.py).
TEST_PROJECTS = ("Support", "SUP", "IT", "P", "Other")


def declare_projects(sessions: Any, names: tuple[str, ...] = TEST_PROJECTS) -> None:
    with transaction(sessions) as session:
        apply_catalog(session, CatalogSpec(projects=[ProjectSpec(name=n) for n in names]))


def declare_projects_at(database_url: str, names: tuple[str, ...] = TEST_PROJECTS) -> None:
    engine = make_engine(database_url)
    try:
        declare_projects(make_sessionmaker(engine), names)
    finally:
        engine.dispose()


class AccountsCli:
    def __init__(self, database_url: str, secret_key: str) -> None:
        self.env = {"DATABASE_URL": database_url, "POSTROOM_SECRET_KEYS": secret_key}
        declare_projects_at(database_url)
        self.outputs: list[str] = []  # everything any command printed, for the scan for secrets

    def __call__(self, *args: str, input: str | None = None) -> Result:  # noqa: A002 (click's name)
        result = postroom(self.env, "accounts", *args, input=input)
        self.outputs.append(result.output)
        return result


def stored(sessions: Any, name: str) -> Account | None:
    with sessions() as session:
        return session.scalar(select(Account).where(Account.name == name))
