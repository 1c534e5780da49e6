"""What people's work on items tells the pipeline (the application layer publishes these).

``SendReply`` asks the notifier to send a person's reply to the customer; ``ItemEdited`` says what a
person changed on an item, for the notifier's notifications and for other trackers listening.
"""

from __future__ import annotations

from typing import Any, ClassVar

from shared.contracts.common import Address, BlobRef, Value
from shared.contracts.envelope import Contract, register
from shared.contracts.items import ItemSummary, StatusChange


class OutgoingAttachment(Value):
    filename: str
    content_type: str
    blob: BlobRef


@register
class SendReply(Contract):
    """Send one person's reply on an item: from the account's address, with the item's token, threaded
    to the customer's last mail. Not an automatic mail: no ``Auto-Submitted``."""

    ROUTING_KEY: ClassVar[str] = "reply.requested.v1"

    reply_id: str  # the reply's id on the item's history; the outbox keys on it
    account: str
    item: ItemSummary
    author: Address  # the person who wrote it
    to: list[Address]
    cc: list[Address] = []
    subject: str
    text: str
    html: str = ""
    attachments: list[OutgoingAttachment] = []
    in_reply_to: str | None = None
    references: list[str] = []


class FieldChange(Value):
    field: str  # status | step | assignee | title | watchers | fields.<name> | merged-into
    before: Any = None
    after: Any = None


@register
class ItemEdited(Contract):
    """A person changed an item. ``notify`` are the watchers to tell (the actor left out)."""

    ROUTING_KEY: ClassVar[str] = "item.edited.v1"

    account: str
    item: ItemSummary
    actor: str
    changes: list[FieldChange]
    status_change: StatusChange | None = None
    notify: list[Address] = []
    subject: str = ""  # the subject of the item's thread, for the notification
    in_reply_to: str | None = None  # the thread's last mail, so notifications thread with it
    references: list[str] = []
