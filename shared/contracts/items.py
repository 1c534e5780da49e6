"""What the itemwriter tells the notifier.

``ItemChanged`` v1 only grows fields with defaults: a consumer built against the first shape still
decodes every event, and an event of the first shape still decodes here.
"""

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
    step: str | None = None
    customer: str | None = None


MAX_TEXT_CHARS = 20_000  # of each text an event carries: a notification quotes a mail, it does not carry it


class MailSummary(Value):
    message_id: str | None
    subject: str
    from_: Address | None = Field(alias="from")
    reply_to: list[Address] = []
    to: list[Address] = []
    cc: list[Address] = []
    references: list[str] = []
    classification: Classification = Classification()
    # Added after the first shape: what templates show (each cut to MAX_TEXT_CHARS by the producer).
    text: str = ""  # the whole body as text
    reply_text: str | None = None  # the new text alone (None: the parser found none apart from ``text``)


class StatusChange(Value):
    """The item's status and workflow step before and after the mail."""

    from_status: str
    to_status: str
    from_step: str | None = None
    to_step: str | None = None
    reopened: bool = False


class Withheld(Value):
    """Someone the notifier must not write to for this change, and why (shown by ``simulate``)."""

    address: str
    kind: Literal["auto-reply", "notification"]
    reason: str


@register
class ItemChanged(Contract):
    """An item was created or a mail appended to it; carries the account's decisions for the notifier."""

    ROUTING_KEY: ClassVar[str] = "item.changed.v1"

    change: Literal["created", "appended"]
    account: str
    item: ItemSummary
    mail: MailSummary
    auto_reply: bool  # the account wants an auto-reply for this change (the governor still decides)
    # Added after the first shape, all with defaults.
    matched_by: str = ""  # the signal that decided create or append
    sender_verified: bool = True  # False: a trusted server saw the sender's domain fail DMARC/SPF+DKIM
    status_change: StatusChange | None = None  # set when the mail moved the status or the step
    notify: list[Address] = []  # send a notification of this change to each (the item's notification list)
    withheld: list[Withheld] = []
    delivery_failure: bool = False  # the mail is a bounce of one of our mails, recorded on the item
    failing_addresses: list[str] = []  # addresses flagged as failing by this change
