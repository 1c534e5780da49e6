"""The API's request bodies. Responses are the application layer's plain results."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field


class Body(BaseModel):
    model_config = ConfigDict(extra="forbid")  # a misspelt key is refused, not ignored


class SignIn(Body):
    email: str
    password: str = Field(repr=False)


class NewUser(Body):
    email: str
    name: str = ""
    role: str = "agent"
    password: str = Field(repr=False)


class NewToken(Body):
    name: str = Field(min_length=1, max_length=200)
    user: str | None = None  # an admin may make one for someone else


class ItemPatch(Body):
    status: str | None = None
    step: str | None = None
    assignee: str | None = None  # "" unassigns
    title: str | None = None
    fields: dict[str, Any] = {}


class Watcher(Body):
    address: str
    name: str = ""


class AttachmentIn(Body):
    filename: str = Field(min_length=1, max_length=255)
    content_type: str = "application/octet-stream"
    content_base64: str


class ReplyIn(Body):
    text: str = Field(min_length=1)
    html: str = ""
    to: list[str] = []
    cc: list[str] = []
    attachments: list[AttachmentIn] = []


class MergeIn(Body):
    into: int  # the target's number, of the same type


class SplitIn(Body):
    mail_id: int


class TemplatePreview(Body):
    """A template being written, rendered against the sample mail, a stored mail or an item's last."""

    kind: str
    subject: str | None = None
    text: str | None = None
    html: str | None = None
    account: str | None = None  # parts not given: this account's stored ones
    mail_id: int | None = None
    item_number: int | None = None
    item_type: str | None = None


class AccountEdit(Body):
    set: dict[str, Any] = {}  # field -> value; "block.key" for one field of a block (oauth.tenant)
    unset: list[str] = []


class AccountCopy(Body):
    name: str
    address: str | None = None


class ReleaseIn(Body):
    override: bool = False  # set the rule that held the mail aside for this one mail
