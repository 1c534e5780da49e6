"""What the mails of a batch look up, read once per transaction instead of once per mail.

The account, the catalog, projects, users and customers are never written by the itemwriter: read
once, they hold for the whole transaction. Inbound mails (the duplicate check) and contacts are
written by it: ``prefetch`` reads those of a batch's mails in one statement each, and each answer
serves one lookup only. A later lookup of the same key may meet a row a batch-mate wrote since, so
it reads the database, as a lookup without a prefetch does."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from services.itemwriter.catalog import Catalog, load_catalog
from services.itemwriter.repository import dedupe_key, find_duplicate, find_duplicates
from shared.contracts import MailParsed
from shared.db.models import Account, Contact, Customer, ItemMail, Project, User

_DuplicateKey = tuple[str, str, str, str]  # item type, dedupe key, account, source id


class Lookups:
    def __init__(self, session: Session) -> None:
        self._session = session
        self._cache: dict[tuple[str, Any], Any] = {}
        self._duplicates: dict[_DuplicateKey, ItemMail | None] = {}
        self._contacts: dict[str, Contact | None] = {}
        self._asked: set[tuple[str, str, str]] = set()  # duplicate keys a lookup has used

    def _once(self, key: tuple[str, Any], load: Any) -> Any:
        if key not in self._cache:
            self._cache[key] = load()
        return self._cache[key]

    def prefetch(self, mails: Sequence[MailParsed]) -> None:
        """Read what ``mails`` will look up: their duplicates, and the users and contacts of their
        senders as the default mapping names them (another address is read when it is asked for)."""
        wanted = [(account.item_type, mail) for mail in mails
                  if (account := self.account(mail.account)) is not None]
        for (item_type, mail), row in zip(wanted, find_duplicates(self._session, wanted), strict=True):
            self._duplicates[_duplicate_key(item_type, mail)] = row
        senders = {mail.from_.address.lower() for mail in mails if mail.from_ is not None}
        users = [e for e in senders if ("user", e) not in self._cache]
        if users:
            found = {u.email: u for u in self._session.scalars(select(User).where(User.email.in_(users)))}
            self._cache.update({("user", e): found.get(e) for e in users})
        if senders:
            contacts = {c.email: c for c in self._session.scalars(select(Contact).where(Contact.email.in_(senders)))}
            self._contacts.update({e: contacts.get(e) for e in senders})

    def duplicate(self, item_type: str, mail: MailParsed) -> ItemMail | None:
        """The inbound row of the same mail handled before (``repository.find_duplicate``)."""
        key = _duplicate_key(item_type, mail)
        parts = {("dedupe", key[0], key[1]), ("source", key[2], key[3])}
        fresh = not (parts & self._asked)
        self._asked |= parts
        if fresh and key in self._duplicates:
            return self._duplicates.pop(key)
        return find_duplicate(self._session, item_type, mail)

    def contact(self, address: str) -> Contact | None:
        """The contact row of ``address`` (lower-case), None when there is none yet."""
        if address in self._contacts:
            return self._contacts.pop(address)
        return self._session.scalar(select(Contact).where(Contact.email == address))

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


def _duplicate_key(item_type: str, mail: MailParsed) -> _DuplicateKey:
    return item_type, dedupe_key(mail), mail.account, mail.source_id
