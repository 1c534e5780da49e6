"""Working items: find, list, edit (status, step, assignee, title, custom fields), watchers. Every
change is one line on the item's history with who made it, and one ``item.edited.v1`` message so the
notifier tells the watchers and other trackers hear of it."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from services.app import catalog, outgoing
from services.app.actors import Actor
from services.app.errors import Invalid, NotFound
from shared.contracts import Address, FieldChange, ItemEdited, ItemSummary, StatusChange
from shared.db.models import Customer, Item, ItemEvent, ItemMail, ItemNotify, User

MAX_PER_PAGE = 200


def find(session: Session, item_type: str, number: int) -> Item:
    item = session.scalar(select(Item).where(Item.type == item_type, Item.number == number))
    if item is None:
        raise NotFound(f"no {item_type} #{number}")
    return item


def find_number(session: Session, number: int, item_type: str | None = None) -> Item:
    """For the CLI: ``#N``, of ``item_type`` when several types share the number."""
    query = select(Item).where(Item.number == number)
    if item_type:
        query = query.where(Item.type == item_type)
    found = session.scalars(query.order_by(Item.id)).first()
    if found is None:
        raise NotFound(f"no item #{number}" + (f" of type {item_type}" if item_type else ""))
    return found


@dataclass(frozen=True)
class Filters:
    project: str | None = None
    type: str | None = None
    status: str | None = None
    step: str | None = None
    account: str | None = None
    assignee: str | None = None  # a user's email, or "none"
    text: str | None = None  # in the title or description
    include_merged: bool = False


@dataclass(frozen=True)
class Page:
    items: list[dict[str, Any]]
    total: int
    page: int
    per_page: int


def summary(item: Any, assignee: str | None = None) -> dict[str, Any]:
    """An item (or a row of its columns) as lists show it."""
    return {"id": item.id, "type": item.type, "number": item.number, "project": item.project, "title": item.title,
            "status": item.status, "step": item.step, "account": item.account, "assignee": assignee,
            "automatic": item.automatic, "merged_into": item.merged_into_id,
            "created_at": item.created_at.isoformat(), "updated_at": item.updated_at.isoformat()}


def list_items(session: Session, filters: Filters, page: int = 1, per_page: int = 50) -> Page:
    """Newest first, ``per_page`` at a time."""
    if page < 1:
        raise Invalid("page starts at 1", field="page")
    if not 1 <= per_page <= MAX_PER_PAGE:
        raise Invalid(f"per_page must be between 1 and {MAX_PER_PAGE}", field="per_page")
    conditions = []
    for column, value in ((Item.project, filters.project), (Item.type, filters.type), (Item.status, filters.status),
                          (Item.step, filters.step), (Item.account, filters.account)):
        if value:
            conditions.append(column == value)
    if filters.assignee == "none":
        conditions.append(Item.assignee_id.is_(None))
    elif filters.assignee:
        conditions.append(User.email == filters.assignee.strip().lower())
    if filters.text:
        pattern = "%" + filters.text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
        conditions.append(or_(Item.title.ilike(pattern, escape="\\"), Item.description.ilike(pattern, escape="\\")))
    if not filters.include_merged:
        conditions.append(Item.merged_into_id.is_(None))
    # Columns, not entities: a page is read-only, and loading 50 ORM objects costs more than the query.
    counted = select(func.count(Item.id)).where(*conditions)
    if filters.assignee and filters.assignee != "none":
        counted = counted.join(User, User.id == Item.assignee_id)
    total = session.scalar(counted) or 0
    page_rows = (select(*_LISTED, User.email.label("assignee_email")).outerjoin(User, User.id == Item.assignee_id)
                 .where(*conditions).order_by(Item.id.desc()).limit(per_page).offset((page - 1) * per_page))
    return Page([summary(row, row.assignee_email) for row in session.execute(page_rows)], total, page, per_page)


_LISTED = (Item.id, Item.type, Item.number, Item.project, Item.title, Item.status, Item.step, Item.account,
           Item.automatic, Item.merged_into_id, Item.created_at, Item.updated_at)


@dataclass
class Edit:
    """What to change; None leaves a value as it is (``assignee=""`` unassigns)."""

    status: str | None = None
    step: str | None = None
    assignee: str | None = None
    title: str | None = None
    fields: dict[str, Any] = field(default_factory=dict)


def record(session: Session, item: Item, actor: Actor, action: str, **detail: Any) -> ItemEvent:
    event = ItemEvent(item_id=item.id, actor=actor.email, action=action, detail=detail)
    session.add(event)
    return event


def edit_item(session: Session, actor: Actor, item: Item, edit: Edit) -> list[FieldChange]:
    """Apply ``edit`` after checking every value against the catalogue; nothing is stored when one is
    refused. Entering a workflow step sets the step's status, as mail does."""
    catalog.require_open(item)
    changes: list[FieldChange] = []
    before = (item.status, item.step)
    if edit.step is not None and edit.step != (item.step or ""):
        step = catalog.step(session, edit.step) if edit.step else None
        changes.append(FieldChange(field="step", before=item.step, after=step.name if step else None))
        item.step = step.name if step else None
        if step is not None and step.status and edit.status is None and step.status != item.status:
            changes.append(FieldChange(field="status", before=item.status, after=step.status))
            item.status = step.status
    if edit.status is not None and edit.status != item.status:
        catalog.status(session, edit.status)
        changes.append(FieldChange(field="status", before=item.status, after=edit.status))
        item.status = edit.status
    if edit.assignee is not None:
        user = catalog.assignable(session, edit.assignee) if edit.assignee else None
        current = session.get(User, item.assignee_id) if item.assignee_id else None
        if (user.id if user else None) != item.assignee_id:
            changes.append(FieldChange(field="assignee", before=current.email if current else None,
                                       after=user.email if user else None))
            item.assignee_id = user.id if user else None
    if edit.title is not None:
        title = " ".join(edit.title.split())
        if not title or len(title) > 255:
            raise Invalid("a title has 1 to 255 characters", field="title")
        if title != item.title:
            changes.append(FieldChange(field="title", before=item.title, after=title))
            item.title = title
    if edit.fields:
        values = dict(item.fields or {})
        for name, raw in edit.fields.items():
            value = catalog.field_value(session, name, raw)
            if values.get(name) != value:
                changes.append(FieldChange(field=f"fields.{name}", before=values.get(name), after=value))
                values[name] = value
        item.fields = values
    if not changes:
        return []
    status_change = None
    if (item.status, item.step) != before:
        status_change = StatusChange(from_status=before[0], to_status=item.status, from_step=before[1],
                                     to_step=item.step)
    record(session, item, actor, "edited", changes=[c.model_dump() for c in changes])
    announce(session, item, actor, changes, status_change)
    return changes


def watchers(session: Session, item: Item) -> list[ItemNotify]:
    return list(session.scalars(select(ItemNotify).where(ItemNotify.item_id == item.id).order_by(ItemNotify.id)))


def add_watcher(session: Session, actor: Actor, item: Item, address: str, name: str = "") -> bool:
    """Put ``address`` on the item's notification list; False when it already is."""
    address = catalog.address(address)
    if session.scalar(select(ItemNotify.id).where(ItemNotify.item_id == item.id, ItemNotify.address == address)):
        return False
    session.add(ItemNotify(item_id=item.id, address=address, name=name, added_because=f"added by {actor.email}"))
    record(session, item, actor, "watcher-added", address=address)
    return True


def remove_watcher(session: Session, actor: Actor, item: Item, address: str) -> bool:
    address = address.strip().lower()
    row = session.scalar(select(ItemNotify).where(ItemNotify.item_id == item.id, ItemNotify.address == address))
    if row is None:
        return False
    session.delete(row)
    record(session, item, actor, "watcher-removed", address=address)
    return True


def last_inbound(session: Session, item: Item) -> ItemMail | None:
    return session.scalar(select(ItemMail).where(ItemMail.item_id == item.id, ItemMail.direction == "in")
                          .order_by(ItemMail.id.desc()).limit(1))


def item_summary(session: Session, item: Item) -> ItemSummary:
    customer = session.get(Customer, item.customer_id) if item.customer_id else None
    return ItemSummary(id=item.id, type=item.type, number=item.number, title=item.title, status=item.status,
                       project=item.project, step=item.step, customer=customer.name if customer else None)


def thread_of(session: Session, item: Item) -> tuple[str | None, list[str], str]:
    """The customer's last mail on the item: its Message-ID, the references to carry, its subject."""
    last = last_inbound(session, item)
    if last is None:
        return None, [], item.title
    refs: list[str] = []
    for envelope in (last.outputs or {}).get("envelopes", []):
        refs = ((envelope.get("payload") or {}).get("mail") or {}).get("references") or refs
    if last.message_id and last.message_id not in refs:
        refs = [*refs, last.message_id]
    return last.message_id, refs[-20:], last.subject or item.title


def announce(session: Session, item: Item, actor: Actor, changes: list[FieldChange],
             status_change: StatusChange | None) -> None:
    """Queue ``item.edited.v1``: the watchers (not the actor) hear of it."""
    notify = [Address(name=w.name, address=w.address) for w in watchers(session, item) if w.address != actor.email]
    in_reply_to, references, subject = thread_of(session, item)
    outgoing.queue(session, ItemEdited(account=item.account, item=item_summary(session, item), actor=actor.email,
                                       changes=changes, status_change=status_change, notify=notify, subject=subject,
                                       in_reply_to=in_reply_to, references=references))
