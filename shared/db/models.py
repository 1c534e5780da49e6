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


def as_utc(value: datetime | None) -> datetime | None:
    """A time as the database hands it back, made aware: SQLite drops the zone (it was stored as UTC),
    PostgreSQL keeps it."""
    if value is None:
        return None
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


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
    step: Mapped[str | None] = mapped_column(String(60), nullable=True)
    creator_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), nullable=True)
    customer_id: Mapped[int | None] = mapped_column(ForeignKey("customers.id"), nullable=True, index=True)
    contact_id: Mapped[int | None] = mapped_column(ForeignKey("contacts.id"), nullable=True)
    fields: Mapped[dict[str, Any]] = mapped_column(default=dict)  # custom field name -> value
    item_date: Mapped[datetime | None] = mapped_column(nullable=True)  # mapped from the mail (Date)

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


class LoopBreaker(Base):
    """The notifier's per-account circuit breaker: while open, nothing automatic goes out."""

    __tablename__ = "loop_breakers"

    account: Mapped[str] = mapped_column(String(100), primary_key=True)
    opened_at: Mapped[datetime] = mapped_column()
    open_until: Mapped[datetime] = mapped_column()
    reason: Mapped[str] = mapped_column(Text, default="")
    trips: Mapped[int] = mapped_column(Integer, default=0)


# The tracker's catalog: declared with ``postroom config apply -f``, seeded by migration 0003.

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


class OAuthToken(Base):
    """An account's OAuth sign-in: the sealed token cache (never readable without the secret key) and
    the state operators watch (``postroom accounts tokens``): when the access token expires, when the
    refresh token was issued, the last refresh and the last error."""

    __tablename__ = "oauth_tokens"

    account: Mapped[str] = mapped_column(String(100), primary_key=True)
    provider: Mapped[str] = mapped_column(String(20))  # microsoft | google
    flow: Mapped[str] = mapped_column(String(30))  # device_code | client_credentials | installed
    sealed_cache: Mapped[str | None] = mapped_column(Text, nullable=True)
    state: Mapped[str] = mapped_column(String(20), default="not_connected")  # ok | auth_failed | ...
    access_expires_at: Mapped[datetime | None] = mapped_column(nullable=True)
    refresh_issued_at: Mapped[datetime | None] = mapped_column(nullable=True)
    consented_at: Mapped[datetime | None] = mapped_column(nullable=True)
    last_refresh_at: Mapped[datetime | None] = mapped_column(nullable=True)
    last_error: Mapped[str | None] = mapped_column(Text, nullable=True)
    last_error_at: Mapped[datetime | None] = mapped_column(nullable=True)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class ApiCursor(Base):
    """Where a mail API sync resumes: a Graph delta link or a Gmail history id, per account and folder."""

    __tablename__ = "api_cursors"

    account: Mapped[str] = mapped_column(String(100), primary_key=True)
    folder: Mapped[str] = mapped_column(String(255), primary_key=True)
    cursor: Mapped[str] = mapped_column(Text)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
