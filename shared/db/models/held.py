"""Mail the rules held back: received, parsed, and deliberately not made an item or appended.

One row per mail (account and source id, as the fetcher named it), written by the itemwriter in the
transaction of the decision, so a redelivery finds it instead of recording it twice. What it takes
to put the mail into the pipeline again is on the row: the raw mail's reference and how it came in.
A release (``services/app/held.py``) marks the row ``released`` and queues the mail again; with
``override`` the itemwriter sets the rule that held it aside for this one mail.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from shared.db.models.base import Base, utcnow


class HeldMail(Base):
    __tablename__ = "held_mails"
    __table_args__ = (UniqueConstraint("account", "source_id", name="uq_held_mails_account_source_id"),
                      Index("ix_held_mails_state_id", "state", "id"))

    id: Mapped[int] = mapped_column(primary_key=True)
    account: Mapped[str] = mapped_column(String(100))
    source: Mapped[str] = mapped_column(String(20))  # how it came in (MailFetched.source)
    source_id: Mapped[str] = mapped_column(String(500))
    raw_key: Mapped[str] = mapped_column(String(100))
    raw_size: Mapped[int] = mapped_column(Integer)
    raw_sha256: Mapped[str] = mapped_column(String(64))
    archive: Mapped[bool] = mapped_column(Boolean, default=False)
    message_id: Mapped[str | None] = mapped_column(String(1000), nullable=True)
    from_address: Mapped[str] = mapped_column(String(320), default="")
    subject: Mapped[str] = mapped_column(Text, default="")
    classification: Mapped[str] = mapped_column(String(20), default="human")
    rule: Mapped[str] = mapped_column(String(40))  # own-mail | inactive-account
    reason: Mapped[str] = mapped_column(Text, default="")
    correlation_id: Mapped[str] = mapped_column(String(100), default="")  # the chain it came in on
    held_at: Mapped[datetime] = mapped_column(default=utcnow)
    times_held: Mapped[int] = mapped_column(Integer, default=1)
    state: Mapped[str] = mapped_column(String(20), default="held")  # held | released
    released_at: Mapped[datetime | None] = mapped_column(nullable=True)
    released_by: Mapped[str] = mapped_column(String(320), default="")
    override: Mapped[bool] = mapped_column(Boolean, default=False)  # the release sets ``rule`` aside
