"""The database schema, shared by the services (each owns its tables' behaviour, not this module).

Changes go through an Alembic migration in ``shared/db/migrations/versions``.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, Boolean, DateTime, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship


def utcnow() -> datetime:
    return datetime.now(UTC)


class Base(DeclarativeBase):
    type_annotation_map = {dict[str, Any]: JSON, datetime: DateTime(timezone=True)}


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
    config: Mapped[dict[str, Any]] = mapped_column(default=dict)  # kind-specific, never secrets
    sealed_secrets: Mapped[str | None] = mapped_column(Text, nullable=True)  # see shared/secrets.py
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class ItemSequence(Base):
    """Item numbers are per type; a row lock on the counter hands them out without gaps or twins."""

    __tablename__ = "item_sequences"

    item_type: Mapped[str] = mapped_column(String(40), primary_key=True)
    last_number: Mapped[int] = mapped_column(Integer, default=0)


class Item(Base):
    __tablename__ = "items"
    __table_args__ = (UniqueConstraint("type", "number"),)

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
    raw_key: Mapped[str | None] = mapped_column(String(100))
    classification: Mapped[str] = mapped_column(String(20), default="human")
    matched_by: Mapped[str] = mapped_column(String(200), default="")
    mail_date: Mapped[datetime | None] = mapped_column(nullable=True)
    outputs: Mapped[dict[str, Any]] = mapped_column(default=dict)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

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
    __table_args__ = (UniqueConstraint("event_id", "recipient", "kind"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    event_id: Mapped[str] = mapped_column(String(100))
    recipient: Mapped[str] = mapped_column(String(320))
    kind: Mapped[str] = mapped_column(String(40))  # auto-reply | notification-...
    item_id: Mapped[int | None] = mapped_column(ForeignKey("items.id"), index=True)
    account: Mapped[str] = mapped_column(String(100))
    message_id: Mapped[str] = mapped_column(String(1000))
    subject: Mapped[str] = mapped_column(Text, default="")
    status: Mapped[str] = mapped_column(String(20))  # pending | sent | suppressed | failed
    reason: Mapped[str] = mapped_column(Text, default="")
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    sent_at: Mapped[datetime | None] = mapped_column(nullable=True)


# --- The fetcher's state (migration 0002) -------------------------------------------------------
# UIDs and UIDVALIDITY are 32-bit unsigned (RFC 3501 2.3.1.1): BigInteger so PostgreSQL holds them.


class FetcherLease(Base):
    """Which fetcher replica reads an account, until when. Renewed while held; a dead replica's
    lease expires and another replica takes the account over."""

    __tablename__ = "fetcher_leases"

    account: Mapped[str] = mapped_column(String(100), primary_key=True)
    holder: Mapped[str] = mapped_column(String(200))
    expires_at: Mapped[datetime] = mapped_column()
    acquired_at: Mapped[datetime] = mapped_column(default=utcnow)


class FetcherReplica(Base):
    """A live fetcher replica: accounts are spread over the replicas that have not expired."""

    __tablename__ = "fetcher_replicas"

    holder: Mapped[str] = mapped_column(String(200), primary_key=True)
    expires_at: Mapped[datetime] = mapped_column()


class MailboxCursor(Base):
    """How far an account's folder has been read: UIDVALIDITY, the last UID published, the last UID
    released on the server (marked, moved or deleted), and the bounds of an archive import or a resync."""

    __tablename__ = "mailbox_cursors"

    account: Mapped[str] = mapped_column(String(100), primary_key=True)
    folder: Mapped[str] = mapped_column(String(500), primary_key=True)
    uidvalidity: Mapped[int] = mapped_column(BigInteger, default=0)
    last_uid: Mapped[int] = mapped_column(BigInteger, default=0)
    released_uid: Mapped[int] = mapped_column(BigInteger, default=0)
    archive_until: Mapped[int] = mapped_column(BigInteger, default=0)
    resync_until: Mapped[int] = mapped_column(BigInteger, default=0)
    imported: Mapped[int] = mapped_column(Integer, default=0)
    backlog: Mapped[int] = mapped_column(Integer, default=0)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class FetchedDigest(Base):
    """The SHA-256 of every mail an account published: after a UIDVALIDITY change, the mails already
    published under the old UIDs are recognised and not published again."""

    __tablename__ = "fetched_digests"

    account: Mapped[str] = mapped_column(String(100), primary_key=True)
    sha256: Mapped[str] = mapped_column(String(64), primary_key=True)
    fetched_at: Mapped[datetime] = mapped_column(default=utcnow)


class Pop3Uidl(Base):
    """A POP3 mail by its UIDL: ``done`` once published; ``archive`` when it was there before the
    first import and is to be imported as archive."""

    __tablename__ = "pop3_uidls"

    account: Mapped[str] = mapped_column(String(100), primary_key=True)
    uidl: Mapped[str] = mapped_column(String(100), primary_key=True)
    state: Mapped[str] = mapped_column(String(20))
    seen_at: Mapped[datetime] = mapped_column(default=utcnow)


class AccountHealth(Base):
    """How an account's fetching goes: last success, last error and its kind, the failure streak."""

    __tablename__ = "account_health"

    account: Mapped[str] = mapped_column(String(100), primary_key=True)
    last_success_at: Mapped[datetime | None] = mapped_column(nullable=True)
    last_error_at: Mapped[datetime | None] = mapped_column(nullable=True)
    last_error_kind: Mapped[str | None] = mapped_column(String(20), nullable=True)  # network|tls|auth|quota|protocol
    last_error: Mapped[str | None] = mapped_column(Text, nullable=True)
    consecutive_failures: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime | None] = mapped_column(nullable=True)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class FetchFailure(Base):
    """A mail the server would not hand over: retried a bounded number of times, then skipped."""

    __tablename__ = "fetch_failures"

    account: Mapped[str] = mapped_column(String(100), primary_key=True)
    source_id: Mapped[str] = mapped_column(String(500), primary_key=True)
    state: Mapped[str] = mapped_column(String(20))  # retrying | skipped
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str] = mapped_column(Text, default="")
    first_failed_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_failed_at: Mapped[datetime] = mapped_column(default=utcnow)
