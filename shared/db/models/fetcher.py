"""The fetcher's state (migration 0002): leases, replicas, cursors, digests, UIDLs, health, failures,
and the mail APIs' cursors.

UIDs and UIDVALIDITY are 32-bit unsigned (RFC 3501 2.3.1.1): BigInteger so PostgreSQL holds them.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from shared.db.models.base import Base, utcnow


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
    # The current import run: when it began and ``imported`` then (the rate is the run's mails over
    # the time from run_started_at to updated_at, the last checkpoint).
    run_started_at: Mapped[datetime | None] = mapped_column(default=None)
    run_base: Mapped[int] = mapped_column(Integer, default=0)
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


class ApiCursor(Base):
    """Where a mail API sync resumes: a Graph delta link or a Gmail history id, per account and folder."""

    __tablename__ = "api_cursors"

    account: Mapped[str] = mapped_column(String(100), primary_key=True)
    folder: Mapped[str] = mapped_column(String(255), primary_key=True)
    cursor: Mapped[str] = mapped_column(Text)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
