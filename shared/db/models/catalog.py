"""The tracker's catalog (item types, projects, people, workflow, custom fields) and item links and
notification lists: declared with ``postroom config apply -f``, seeded by migration 0003."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, Boolean, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from shared.db.models.base import Base, utcnow


class ItemType(Base):
    __tablename__ = "item_types"

    name: Mapped[str] = mapped_column(String(40), primary_key=True)  # incident | defect | user-story
    label: Mapped[str] = mapped_column(String(100))


class Project(Base):
    __tablename__ = "projects"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(100), unique=True)
    description: Mapped[str] = mapped_column(Text, default="")
    notify: Mapped[list[str]] = mapped_column(JSON, default=list)  # put on every new item's list


class User(Base):
    """One of us: an agent who works on items."""

    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(320), unique=True)  # stored lower-case
    name: Mapped[str] = mapped_column(String(200), default="")
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    # Who may sign in, and as what (services/app/users.py): admin | agent. No hash: cannot sign in.
    role: Mapped[str] = mapped_column(String(20), default="agent")
    password_hash: Mapped[str | None] = mapped_column(String(200), nullable=True)  # argon2id


class Customer(Base):
    __tablename__ = "customers"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    domains: Mapped[list[str]] = mapped_column(JSON, default=list)  # any address at these belongs


class Contact(Base):
    """An outside address we know: a customer's person, or a stranger's address we wrote to."""

    __tablename__ = "contacts"

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(320), unique=True)  # stored lower-case
    name: Mapped[str] = mapped_column(String(200), default="")
    customer_id: Mapped[int | None] = mapped_column(ForeignKey("customers.id"), nullable=True, index=True)
    failing: Mapped[bool] = mapped_column(Boolean, default=False)  # mail to it bounced
    failing_reason: Mapped[str] = mapped_column(Text, default="")
    failing_since: Mapped[datetime | None] = mapped_column(nullable=True)


class Status(Base):
    __tablename__ = "statuses"

    name: Mapped[str] = mapped_column(String(40), primary_key=True)
    label: Mapped[str] = mapped_column(String(100))
    position: Mapped[int] = mapped_column(Integer, default=0)
    closed: Mapped[bool] = mapped_column(Boolean, default=False)


class WorkflowStep(Base):
    __tablename__ = "workflow_steps"

    name: Mapped[str] = mapped_column(String(60), primary_key=True)
    label: Mapped[str] = mapped_column(String(100))
    position: Mapped[int] = mapped_column(Integer, default=0)
    status: Mapped[str | None] = mapped_column(String(40), nullable=True)  # entering the step sets it
    # "When a new email comes in for an existing item, place the item in this step" (None: stay).
    on_new_mail: Mapped[str | None] = mapped_column(String(60), nullable=True)


class CustomField(Base):
    __tablename__ = "custom_fields"

    name: Mapped[str] = mapped_column(String(60), primary_key=True)
    label: Mapped[str] = mapped_column(String(100))
    kind: Mapped[str] = mapped_column(String(20), default="text")  # text | number | choice | bool | date
    choices: Mapped[list[str]] = mapped_column(JSON, default=list)


class ItemLink(Base):
    """Items a person should look at together, e.g. a stranger's mail naming an item's number."""

    __tablename__ = "item_links"
    __table_args__ = (UniqueConstraint("item_id", "other_item_id", "kind"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    item_id: Mapped[int] = mapped_column(ForeignKey("items.id"), index=True)  # the new item
    other_item_id: Mapped[int] = mapped_column(ForeignKey("items.id"), index=True)
    kind: Mapped[str] = mapped_column(String(40))  # possible-follow-up
    reason: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class ItemNotify(Base):
    """The item's notification list."""

    __tablename__ = "item_notify"
    __table_args__ = (UniqueConstraint("item_id", "address"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    item_id: Mapped[int] = mapped_column(ForeignKey("items.id"), index=True)
    address: Mapped[str] = mapped_column(String(320))  # lower-case
    name: Mapped[str] = mapped_column(String(200), default="")
    added_because: Mapped[str] = mapped_column(String(200), default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
