"""Accounts, items, the mail in and out of them, and the notifier's loop breaker."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Boolean, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from shared.db.models.base import Base, utcnow


class Account(Base):
    __tablename__ = "accounts"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(100), unique=True)
    kind: Mapped[str] = mapped_column(String(20))  # dropfolder | stdin | imap | pop3 | ...
    address: Mapped[str] = mapped_column(String(320))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    item_type: Mapped[str] = mapped_column(String(40), default="incident")
    project: Mapped[str] = mapped_column(String(100))
    auto_reply: Mapped[bool] = mapped_column(Boolean, default=True)
    # False: a mail that answers one of ours gets no auto-reply (only a thread's first mail does).
    auto_reply_same_thread: Mapped[bool] = mapped_column(Boolean, default=False)
    config: Mapped[dict[str, Any]] = mapped_column(default=dict)  # kind-specific, never secrets
    sealed_secrets: Mapped[str | None] = mapped_column(Text, nullable=True)  # see shared/secrets.py
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
    # What the itemwriter does with this account's mail (the README lists them with their YAML names).
    creator: Mapped[str | None] = mapped_column(String(320), nullable=True)  # a user's email
    field_mapping: Mapped[dict[str, Any]] = mapped_column(default=dict)  # item field -> mail field
    default_values: Mapped[dict[str, Any]] = mapped_column(default=dict)  # new items: field -> value
    save_attachments: Mapped[bool] = mapped_column(Boolean, default=True)
    add_sender_to_notify: Mapped[bool] = mapped_column(Boolean, default=False)
    map_senders: Mapped[bool] = mapped_column(Boolean, default=True)
    quiet_on_create: Mapped[bool] = mapped_column(Boolean, default=True)
    reply_status: Mapped[str | None] = mapped_column(String(40), nullable=True)
    reply_moves_step: Mapped[bool] = mapped_column(Boolean, default=True)
    reopen_closed: Mapped[bool] = mapped_column(Boolean, default=True)
    attribute_forwards: Mapped[bool] = mapped_column(Boolean, default=False)
    trusted_authserv_ids: Mapped[list[str]] = mapped_column(JSON, default=list)
    require_verified_sender_for_append: Mapped[bool] = mapped_column(Boolean, default=False)


class ItemSequence(Base):
    """Item numbers are per type; a row lock on the counter hands them out without gaps or twins."""

    __tablename__ = "item_sequences"

    item_type: Mapped[str] = mapped_column(String(40), primary_key=True)
    last_number: Mapped[int] = mapped_column(Integer, default=0)


class Item(Base):
    __tablename__ = "items"
    # (status, id): the API's lists are filtered by status, newest first.
    __table_args__ = (UniqueConstraint("type", "number"), Index("ix_items_status_id", "status", "id"))

    id: Mapped[int] = mapped_column(primary_key=True)
    type: Mapped[str] = mapped_column(String(40))
    number: Mapped[int] = mapped_column(Integer)
    project: Mapped[str] = mapped_column(String(100))
    title: Mapped[str] = mapped_column(String(255))
    description: Mapped[str] = mapped_column(Text, default="")
    status: Mapped[str] = mapped_column(String(40), default="new")
    account: Mapped[str] = mapped_column(String(100))
    automatic: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
    step: Mapped[str | None] = mapped_column(String(60), nullable=True)
    creator_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), nullable=True)
    customer_id: Mapped[int | None] = mapped_column(ForeignKey("customers.id"), nullable=True, index=True)
    contact_id: Mapped[int | None] = mapped_column(ForeignKey("contacts.id"), nullable=True)
    fields: Mapped[dict[str, Any]] = mapped_column(default=dict)  # custom field name -> value
    item_date: Mapped[datetime | None] = mapped_column(nullable=True)  # mapped from the mail (Date)
    assignee_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), nullable=True, index=True)
    # Merged into another item: its mails moved there, and its tokens lead there.
    merged_into_id: Mapped[int | None] = mapped_column(ForeignKey("items.id"), nullable=True)

    mails: Mapped[list[ItemMail]] = relationship(back_populates="item", order_by="ItemMail.id")
    attachments: Mapped[list[ItemAttachment]] = relationship(order_by="ItemAttachment.id")


class ItemMail(Base):
    """A mail in an item's history. Inbound rows carry the idempotency key and the outputs recorded
    when they were handled, so a redelivered mail re-publishes exactly those."""

    __tablename__ = "item_mails"
    __table_args__ = (UniqueConstraint("item_type", "dedupe_key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    item_id: Mapped[int] = mapped_column(ForeignKey("items.id"), index=True)
    item_type: Mapped[str] = mapped_column(String(40))
    direction: Mapped[str] = mapped_column(String(3))  # in | out
    account: Mapped[str] = mapped_column(String(100))
    source_id: Mapped[str | None] = mapped_column(String(500), index=True)
    dedupe_key: Mapped[str | None] = mapped_column(String(1000))
    message_id: Mapped[str | None] = mapped_column(String(1000), index=True)
    subject: Mapped[str] = mapped_column(Text, default="")
    from_address: Mapped[str] = mapped_column(String(320), default="")
    from_name: Mapped[str] = mapped_column(String(320), default="")
    text: Mapped[str] = mapped_column(Text, default="")
    reply_text: Mapped[str | None] = mapped_column(Text, nullable=True)  # the new text alone; None: not known
    # The parser's sanitized HTML (nothing runs, nothing remote is fetched); None: no HTML part, or
    # written before it was kept.
    html: Mapped[str | None] = mapped_column(Text, nullable=True)
    raw_key: Mapped[str | None] = mapped_column(String(100))
    classification: Mapped[str] = mapped_column(String(20), default="human")
    matched_by: Mapped[str] = mapped_column(String(200), default="")
    mail_date: Mapped[datetime | None] = mapped_column(nullable=True)
    outputs: Mapped[dict[str, Any]] = mapped_column(default=dict)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    decision: Mapped[dict[str, Any]] = mapped_column(default=dict)  # every signal weighed, and why

    item: Mapped[Item] = relationship(back_populates="mails")


class ItemAttachment(Base):
    __tablename__ = "item_attachments"

    id: Mapped[int] = mapped_column(primary_key=True)
    item_id: Mapped[int] = mapped_column(ForeignKey("items.id"), index=True)
    mail_id: Mapped[int] = mapped_column(ForeignKey("item_mails.id"))
    filename: Mapped[str] = mapped_column(String(255))
    content_type: Mapped[str] = mapped_column(String(255))
    size: Mapped[int] = mapped_column(Integer)
    sha256: Mapped[str] = mapped_column(String(64))
    blob_key: Mapped[str | None] = mapped_column(String(100))
    inline: Mapped[bool] = mapped_column(Boolean, default=False)
    content_id: Mapped[str | None] = mapped_column(String(500))


class OutboundMail(Base):
    """The notifier's outbox: a row per (event, recipient, kind) written before the SMTP send."""

    __tablename__ = "outbound_mails"
    # The pending sends, oldest first (``postroom outbox``, the oldest-pending gauge).
    __table_args__ = (UniqueConstraint("event_id", "recipient", "kind"),
                      Index("ix_outbound_mails_status_created_at", "status", "created_at"))

    id: Mapped[int] = mapped_column(primary_key=True)
    event_id: Mapped[str] = mapped_column(String(100))
    recipient: Mapped[str] = mapped_column(String(320))
    kind: Mapped[str] = mapped_column(String(40))  # auto-reply | notification-...
    item_id: Mapped[int | None] = mapped_column(ForeignKey("items.id"), index=True)
    account: Mapped[str] = mapped_column(String(100))
    message_id: Mapped[str] = mapped_column(String(1000))
    subject: Mapped[str] = mapped_column(Text, default="")
    status: Mapped[str] = mapped_column(String(20))  # pending | sent | suppressed | failed
    reason: Mapped[str] = mapped_column(Text, default="")  # while pending: the last error
    # When the outbox row was written (``created_at``) is the first attempt; while an SMTP outage is
    # waited out, when the next one is due.
    next_attempt_at: Mapped[datetime | None] = mapped_column(nullable=True)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    sent_at: Mapped[datetime | None] = mapped_column(nullable=True)
    # Counts against the loop governor's caps: automatic mail that a loop could have caused. Not a
    # person's reply, nor mail about a person's change or about an answer to a person's reply.
    counted: Mapped[bool] = mapped_column(Boolean, default=True)


class LoopBreaker(Base):
    """The notifier's loop breaker: while open, nothing automatic goes to its scope. ``scope`` is
    ``recipient`` (one correspondent; ``key`` its lower-cased address), ``item`` (one thread; ``key``
    the item's id) or ``account`` (a storm: everything automatic of the account; ``key`` empty)."""

    __tablename__ = "loop_breakers"

    account: Mapped[str] = mapped_column(String(100), primary_key=True)
    scope: Mapped[str] = mapped_column(String(20), primary_key=True, default="account")
    key: Mapped[str] = mapped_column(String(320), primary_key=True, default="")
    opened_at: Mapped[datetime] = mapped_column()
    open_until: Mapped[datetime] = mapped_column()
    reason: Mapped[str] = mapped_column(Text, default="")
    trips: Mapped[int] = mapped_column(Integer, default=0)
