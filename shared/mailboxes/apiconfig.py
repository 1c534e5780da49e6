"""The typed configuration of the accounts read through a mail API: Microsoft Graph and Gmail."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

ALL_MAIL = "ALL"  # Gmail: no label filter: everything but spam and trash


class GraphConfig(BaseModel):
    model_config = ConfigDict(frozen=True, extra="ignore")

    mailbox: str  # the user id or address (a shared mailbox: its address, with app-only access)
    folder: str = "inbox"  # a well-known name (inbox, archive, ...) or a folder id
    after_fetch: Literal["mark_read", "move", "delete", "leave"] = "mark_read"
    move_to: str | None = None  # a well-known name or folder id
    existing_mail: Literal["import", "archive", "skip"] = "import"
    batch_size: int = Field(50, ge=1, le=1000)
    base_url: str = "https://graph.microsoft.com/v1.0"
    poll_interval: float = 60.0

    @model_validator(mode="after")
    def _move_needs_target(self) -> GraphConfig:
        if (self.after_fetch == "move") != bool(self.move_to):
            raise ValueError("after_fetch: move needs move_to (and move_to needs after_fetch: move)")
        return self


class GmailConfig(BaseModel):
    model_config = ConfigDict(frozen=True, extra="ignore")

    labels: tuple[str, ...] = ("INBOX",)  # label ids (INBOX, or Label_123 for user labels), or ALL
    after_fetch: Literal["mark_read", "trash", "leave"] = "mark_read"
    existing_mail: Literal["import", "archive", "skip"] = "import"
    batch_size: int = Field(50, ge=1, le=500)
    poll_interval: float = 60.0
    base_url: str = "https://gmail.googleapis.com/"  # the API's root (a proxy or a test server)
