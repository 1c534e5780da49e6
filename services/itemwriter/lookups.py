"""What every mail of a batch reads the same: the account, the catalog, projects, users and
customers, read once per transaction instead of once per mail (none of them is written by the
itemwriter)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from services.itemwriter.catalog import Catalog, load_catalog
from shared.db.models import Account, Customer, Project, User


class Lookups:
    def __init__(self, session: Session) -> None:
        self._session = session
        self._cache: dict[tuple[str, Any], Any] = {}

    def _once(self, key: tuple[str, Any], load: Any) -> Any:
        if key not in self._cache:
            self._cache[key] = load()
        return self._cache[key]

    def account(self, name: str) -> Account | None:
        return self._once(("account", name),
                          lambda: self._session.scalar(select(Account).where(Account.name == name)))

    def catalog(self) -> Catalog:
        return self._once(("catalog", None), lambda: load_catalog(self._session))

    def project(self, name: str) -> Project | None:
        return self._once(("project", name),
                          lambda: self._session.scalar(select(Project).where(Project.name == name)))

    def user(self, email: str) -> User | None:
        return self._once(("user", email),
                          lambda: self._session.scalar(select(User).where(User.email == email)))

    def active_user(self, email: str) -> User | None:
        user = self.user(email)
        return user if user is not None and user.active else None

    def customers(self) -> list[tuple[Customer, set[str]]]:
        """Every customer in id order, with its domains lower-cased."""
        return self._once(("customers", None), lambda: [
            (c, {d.lower() for d in c.domains})
            for c in self._session.scalars(select(Customer).order_by(Customer.id))])
