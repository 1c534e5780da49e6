"""Item persistence the handler needs: numbers, new items, duplicates, recorded outputs, notification
lists, links, row locks, status and step. The statements run for every mail are built once."""

from __future__ import annotations

from collections.abc import Sequence
from functools import cache
from typing import Any, TypeVar

from sqlalchemy import Table, bindparam, insert, or_, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.engine import CursorResult, Row
from sqlalchemy.orm import Session, make_transient_to_detached
from sqlalchemy.orm.attributes import set_committed_value
from sqlalchemy.sql.dml import Insert

from shared.contracts import Envelope, MailParsed, decode
from shared.db.models import Contact, Item, ItemLink, ItemMail, ItemNotify, utcnow

M = TypeVar("M")


def dedupe_key(mail: MailParsed) -> str:
    """The same mail twice, whatever path it took: its Message-ID, or its content when it has none."""
    return f"mid:{mail.message_id}" if mail.message_id else f"sha256:{mail.raw.sha256}"


def find_duplicate(session: Session, item_type: str, mail: MailParsed) -> ItemMail | None:
    return find_duplicates(session, [(item_type, mail)])[0]


def find_duplicates(session: Session, wanted: Sequence[tuple[str, MailParsed]]) -> list[ItemMail | None]:
    """For each (item type, mail), the inbound row of the same mail handled before (same dedupe key in
    that item type, or same source id in that account), or None; one statement for all of them."""
    if not wanted:
        return []
    keys = {(item_type, dedupe_key(mail)) for item_type, mail in wanted}
    sources = {(mail.account, mail.source_id) for _, mail in wanted}
    # Each pair of IN lists may cross-match (another type's key): the rows are sorted out below.
    rows = session.scalars(select(ItemMail).where(
        ItemMail.direction == "in",
        or_(ItemMail.item_type.in_({t for t, _ in keys}) & ItemMail.dedupe_key.in_({k for _, k in keys}),
            ItemMail.account.in_({a for a, _ in sources}) & ItemMail.source_id.in_({s for _, s in sources})),
    ).order_by(ItemMail.id)).all()
    by_key: dict[tuple[str, str | None], ItemMail] = {}
    by_source: dict[tuple[str, str | None], ItemMail] = {}
    for row in rows:
        by_key.setdefault((row.item_type, row.dedupe_key), row)
        by_source.setdefault((row.account, row.source_id), row)
    return [by_key.get((item_type, dedupe_key(mail))) or by_source.get((mail.account, mail.source_id))
            for item_type, mail in wanted]


_INSERT_ITEM = insert(Item.__table__).returning(*Item.__table__.c)


def insert_item(session: Session, values: dict[str, Any]) -> Item:
    """Write a new item with one Core INSERT (the unit of work's flush costs more than the statement)."""
    return as_loaded(session, Item, session.connection().execute(_INSERT_ITEM, values).one())


def as_loaded(session: Session, model: type[M], row: Row[Any]) -> M:
    """``row``, every column of ``model`` as a Core statement just returned it, put in the session as
    if a query had loaded it: later reads in the transaction find it, and changes to it are flushed."""
    obj = model(**row._mapping)
    make_transient_to_detached(obj)
    session.add(obj)
    return obj


def recorded_form(outputs: list[Envelope[Any]]) -> dict[str, Any]:
    """The outputs as ``item_mails.outputs`` keeps them, for ``recorded_outputs`` to read back."""
    return {"envelopes": [e.model_dump(mode="json", by_alias=True) for e in outputs]}


def recorded_outputs(row: ItemMail) -> list[Envelope[Any]]:
    import json

    return [decode(json.dumps(e).encode()) for e in (row.outputs or {}).get("envelopes", [])]


_NOTIFY_LIST = (select(ItemNotify.address, ItemNotify.name, Contact.failing)
                .outerjoin(Contact, Contact.email == ItemNotify.address)
                .where(ItemNotify.item_id == bindparam("item_id")).order_by(ItemNotify.id))


def notify_list(session: Session, item_id: int) -> tuple[list[tuple[str, str]], set[str]]:
    """The item's notification list in order, and which of its addresses are flagged as failing."""
    rows = session.execute(_NOTIFY_LIST, {"item_id": item_id}).all()
    return [(r.address, r.name) for r in rows], {r.address for r in rows if r.failing}


def failing_among(session: Session, addresses: Sequence[str]) -> set[str]:
    """Which of ``addresses`` are flagged as failing (``notify_list``'s second half, for a list known
    without reading it)."""
    if not addresses:
        return set()
    return set(session.scalars(select(Contact.email).where(Contact.email.in_(set(addresses)), Contact.failing)))


def add_to_notify(session: Session, item_id: int, address: str, name: str, because: str) -> tuple[str, str] | None:
    """Put ``address`` on the item's notification list and return it as ``notify_list`` lists it;
    None when it already was (or a concurrent writer just put it there): one statement, no savepoint."""
    row: dict[str, Any] = {"item_id": item_id, "address": address.lower(), "name": name[:200],
                           "added_because": because[:200]}
    if not insert_unless_present(session, ItemNotify.__table__, row).rowcount:
        return None
    return row["address"], row["name"]


def insert_unless_present(session: Session, table: Table, row: dict[str, Any], *,
                          returning: bool = False) -> CursorResult[Any]:
    """INSERT ... ON CONFLICT DO NOTHING on PostgreSQL and SQLite: rowcount 0 when a unique key
    already held the row; ``returning``: the row's columns, no row then."""
    return session.connection().execute(_insert_or_nothing(session.get_bind().dialect.name, table, returning), row)


@cache
def _insert_or_nothing(dialect: str, table: Table, returning: bool) -> Insert:
    # Built once per table: building and keying a statement costs about as much as running it.
    statement = {"postgresql": pg_insert, "sqlite": sqlite_insert}[dialect](table).on_conflict_do_nothing()
    return statement.returning(*table.c) if returning else statement


def link_follow_up(session: Session, new_item: Item, other: Item, reason: str) -> None:
    session.add(ItemLink(item_id=new_item.id, other_item_id=other.id, kind="possible-follow-up", reason=reason))


_LOCK_ITEM = (select(Item).where(Item.id == bindparam("item_id")).with_for_update()
              .execution_options(populate_existing=True))


def lock_item(session: Session, item_id: int) -> Item:
    """Re-read the item under a row lock: concurrent appends to one item take turns (PostgreSQL;
    SQLite's BEGIN IMMEDIATE already serializes writers)."""
    item = session.scalar(_LOCK_ITEM, {"item_id": item_id})
    assert item is not None
    return item


_ITEMS = Item.__table__
_PLACE_ITEM = (update(_ITEMS).where(_ITEMS.c.id == bindparam("item_id"))
               .values(status=bindparam("to_status"), step=bindparam("to_step"), updated_at=bindparam("now")))


def place_item(session: Session, item: Item, status: str, step: str | None) -> None:
    """Write the item's status and step (a Core UPDATE: the unit of work's flush costs more than the
    statement), and have the session hold them as the row's values."""
    now = utcnow()
    session.connection().execute(_PLACE_ITEM, {"item_id": item.id, "to_status": status, "to_step": step, "now": now})
    for key, value in (("status", status), ("step", step), ("updated_at", now)):
        set_committed_value(item, key, value)
