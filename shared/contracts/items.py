"""What the itemwriter tells the notifier."""

from __future__ import annotations

from typing import ClassVar, Literal

from pydantic import Field

from shared.contracts.common import Address, Value
from shared.contracts.envelope import Contract, register
from shared.contracts.mail import Classification


class ItemSummary(Value):
    id: int
    type: str
    number: int
    title: str
    status: str
    project: str


class MailSummary(Value):
    message_id: str | None
    subject: str
    from_: Address | None = Field(alias="from")
    reply_to: list[Address] = []
    to: list[Address] = []
    cc: list[Address] = []
    references: list[str] = []
    classification: Classification = Classification()


@register
class ItemChanged(Contract):
    """An item was created or a mail appended to it; carries the account's decisions for the notifier."""

    ROUTING_KEY: ClassVar[str] = "item.changed.v1"

    change: Literal["created", "appended"]
    account: str
    item: ItemSummary
    mail: MailSummary
    auto_reply: bool  # the account wants an auto-reply for this change (the governor still decides)
