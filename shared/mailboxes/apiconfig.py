"""The typed configuration of the accounts read through a mail API: Microsoft Graph and Gmail.

Both APIs answer "what changed since" cheaply (a Graph delta link, a Gmail history id), so the
mailbox is asked every few seconds; below ``POLL_FLOOR`` a mailbox would spend the providers' request
allowance (Graph: 10,000 requests per 10 minutes per mailbox; Gmail: a quota
of units per user and second) on asking."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from shared.mailboxes.mailconfig import ExistingMail

ALL_MAIL = "ALL"  # Gmail: no label filter: everything but spam and trash
POLL_DEFAULT = 5.0  # seconds between "what changed since" questions
POLL_FLOOR = 2.0


def _poll_floor(seconds: float) -> float:
    if seconds < POLL_FLOOR:
        raise ValueError(f"poll_interval must be at least {POLL_FLOOR:g} seconds (got {seconds:g}): "
                         "asking more often spends the provider's request allowance")
    return seconds


class GraphConfig(BaseModel):
    model_config = ConfigDict(frozen=True, extra="ignore")

    mailbox: str  # the user id or address (a shared mailbox: its address, with app-only access)
    folder: str = "inbox"  # a well-known name (inbox, archive, ...), a path ("Inbox/Support") or a folder id
    after_fetch: Literal["mark_read", "move", "delete", "leave"] = "mark_read"
    move_to: str | None = None  # a well-known name, a path or a folder id
    existing_mail: ExistingMail = "archive"  # as for IMAP and POP3 (mailconfig.py)
    batch_size: int = Field(50, ge=1, le=1000)
    base_url: str = "https://graph.microsoft.com/v1.0"
    poll_interval: float = POLL_DEFAULT

    _floor = field_validator("poll_interval")(_poll_floor)

    @model_validator(mode="after")
    def _move_needs_target(self) -> GraphConfig:
        if (self.after_fetch == "move") != bool(self.move_to):
            raise ValueError("after_fetch: move needs move_to (and move_to needs after_fetch: move)")
        return self


class GmailConfig(BaseModel):
    model_config = ConfigDict(frozen=True, extra="ignore")

    labels: tuple[str, ...] = ("INBOX",)  # label ids (INBOX, or Label_123 for user labels), or ALL
    after_fetch: Literal["mark_read", "trash", "leave"] = "mark_read"
    existing_mail: ExistingMail = "archive"  # as for IMAP and POP3 (mailconfig.py)
    batch_size: int = Field(50, ge=1, le=500)
    poll_interval: float = POLL_DEFAULT
    base_url: str = "https://gmail.googleapis.com/"  # the API's root (a proxy or a test server)

    _floor = field_validator("poll_interval")(_poll_floor)
