"""The catalogue's checks for what a person sets on an item: each refusal names the field and the
values it accepts."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from email.utils import parseaddr
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from services.app.errors import Conflict, Invalid
from shared.db.models import CustomField, Item, Status, User, WorkflowStep


def _names(session: Session, column: Any) -> str:
    return ", ".join(session.scalars(select(column).order_by(column))) or "none declared"


@dataclass(frozen=True)
class Choices:
    """What a person may pick on a form: statuses and steps in their order, the active users, the
    projects that have items."""

    statuses: list[str]
    closed: list[str]
    steps: list[str]
    users: list[str]
    projects: list[str]


def choices(session: Session) -> Choices:
    statuses = list(session.execute(select(Status.name, Status.closed).order_by(Status.position, Status.name)))
    return Choices([name for name, _ in statuses], [name for name, closed in statuses if closed],
                   list(session.scalars(select(WorkflowStep.name).order_by(WorkflowStep.position, WorkflowStep.name))),
                   list(session.scalars(select(User.email).where(User.active.is_(True)).order_by(User.email))),
                   [p for p in session.scalars(select(Item.project).distinct().order_by(Item.project)) if p])


def status(session: Session, name: str) -> Status:
    row = session.get(Status, name)
    if row is None:
        raise Invalid(f"status {name!r} does not exist; the statuses are: {_names(session, Status.name)}",
                      field="status")
    return row


def step(session: Session, name: str) -> WorkflowStep:
    row = session.get(WorkflowStep, name)
    if row is None:
        raise Invalid(f"workflow step {name!r} does not exist; the steps are: {_names(session, WorkflowStep.name)}",
                      field="step")
    return row


def assignable(session: Session, email: str) -> User:
    user = session.scalar(select(User).where(User.email == email.strip().lower()))
    if user is None or not user.active:
        raise Invalid(f"{email!r} is no active user", field="assignee")
    return user


def address(text: str) -> str:
    _, addr = parseaddr(text.strip())
    local, at, domain = addr.rpartition("@")
    if not at or not local or "." not in domain or any(c.isspace() for c in addr):
        raise Invalid(f"{text!r} is not an email address", field="address")
    return addr.lower()


def field_value(session: Session, name: str, raw: Any) -> Any:
    """``raw`` as the custom field ``name`` stores it (text, number, choice, bool, date)."""
    spec = session.get(CustomField, name)
    where = f"fields.{name}"
    if spec is None:
        raise Invalid(f"{name!r} is no custom field; the fields are: {_names(session, CustomField.name)}", field=where)
    if raw is None:
        return None
    if spec.kind == "number":
        try:
            return float(raw) if "." in str(raw) else int(raw)
        except ValueError:
            raise Invalid(f"{name} takes a number, not {raw!r}", field=where) from None
    if spec.kind == "bool":
        if isinstance(raw, bool):
            return raw
        if str(raw).lower() in {"true", "yes", "1", "false", "no", "0"}:
            return str(raw).lower() in {"true", "yes", "1"}
        raise Invalid(f"{name} takes true or false, not {raw!r}", field=where)
    if spec.kind == "date":
        try:
            return date.fromisoformat(str(raw)).isoformat()
        except ValueError:
            raise Invalid(f"{name} takes a date as YYYY-MM-DD, not {raw!r}", field=where) from None
    if spec.kind == "choice" and str(raw) not in spec.choices:
        raise Invalid(f"{name} takes one of {', '.join(spec.choices)}, not {raw!r}", field=where)
    return str(raw)


def require_open(item: Item) -> None:
    if item.merged_into_id is not None:
        raise Conflict(f"{item.type} #{item.number} was merged into another item; work on that one", field="item")
