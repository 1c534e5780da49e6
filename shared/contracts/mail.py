"""Mail as it moves from the fetcher to the parser to the itemwriter."""

from __future__ import annotations

from datetime import datetime
from typing import ClassVar, Literal

from pydantic import Field

from shared.contracts.common import Address, BlobRef, Value
from shared.contracts.envelope import Contract, register


@register
class MailFetched(Contract):
    """A raw mail was read from a mailbox and stored; the server copy may now be released."""

    ROUTING_KEY: ClassVar[str] = "mail.fetched.v1"

    account: str
    source: str  # dropfolder | stdin | imap | pop3 | graph | gmail
    source_id: str  # stable within the account: the same server mail always gives the same id
    raw: BlobRef
    received_at: datetime
    archive: bool = False  # imported as archive: keep dates, send nothing


class Attachment(Value):
    blob: BlobRef | None  # None when the account does not keep attachments
    filename: str  # sanitized: no directory part, control or bidirectional characters
    content_type: str
    size: int
    sha256: str
    inline: bool = False
    content_id: str | None = None
    extension: str = ""  # the file name's real last extension, lower-case ("exe" for "a.pdf.exe")


ClassificationKind = Literal["human", "auto-reply", "bulk", "list", "bounce", "own-loop"]


class Classification(Value):
    kind: ClassificationKind = "human"
    reason: str = ""

    @property
    def automatic(self) -> bool:
        return self.kind != "human"


class ItemRef(Value):
    """An item named by the mail, and the signal that named it."""

    number: int
    signal: Literal["subject-token", "in-reply-to", "references"]
    item_type: str | None = None  # known when the token came from one of our Message-IDs
    signed: bool = False  # the Message-ID token's HMAC checked out
    bound: bool = False  # and the token was issued to this mail's sender (shared/tokens.py)


class DeliveryReport(Value):
    """One recipient's fields of a delivery status notification (RFC 3464 section 2.3): what the
    reporting server did with our mail for that address. Values as written, trimmed; the itemwriter
    decides what they mean."""

    final_recipient: str  # the address alone: its type ("rfc822;") and angle brackets taken off
    action: str  # failed | delayed | delivered | relayed | expanded, lower-case
    status: str = ""  # the class.subject.detail code ("5.1.1", RFC 3463); "" when missing or malformed
    original_recipient: str | None = None  # the address as we gave it, when the report says
    diagnostic: str = ""  # Diagnostic-Code, on one line, cut


@register
class MailParsed(Contract):
    """The normalized message: what the itemwriter needs, with the raw mail one reference away."""

    ROUTING_KEY: ClassVar[str] = "mail.parsed.v1"

    account: str
    source_id: str
    raw: BlobRef
    archive: bool = False
    message_id: str | None
    date: datetime | None
    subject: str
    from_: Address | None = Field(alias="from")
    reply_to: list[Address] = []
    to: list[Address] = []
    cc: list[Address] = []
    in_reply_to: str | None = None
    references: list[str] = []
    text: str = ""  # the whole body as text, quoted history included
    html: str | None = None  # sanitized: nothing runs, nothing is fetched on view
    reply_text: str | None = None  # the new text alone: no quoted history, no signature
    attachments: list[Attachment] = []
    classification: Classification = Classification()
    bounce_of: str | None = None  # for a bounce: the Message-ID of the mail that did not arrive
    item_refs: list[ItemRef] = []
    defects: list[str] = []
    # Raw Authentication-Results header values (RFC 8601), topmost first; the itemwriter decides
    # which authserv-ids it trusts.
    authentication_results: list[str] = []
    # For a bounce: the report's per-recipient fields, one per recipient it names (added later,
    # defaulted: a mail parsed before it says nothing about who failed).
    delivery_reports: list[DeliveryReport] = []
