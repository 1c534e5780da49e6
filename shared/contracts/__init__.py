"""Message contracts: one module per family, all registered on import."""

from shared.contracts.common import Address, BlobRef
from shared.contracts.envelope import Envelope, UndecodableMessage, decode, derived_id, registered_keys
from shared.contracts.items import ItemChanged, ItemSummary, MailSummary, StatusChange, Withheld
from shared.contracts.mail import Attachment, Classification, DeliveryReport, ItemRef, MailFetched, MailParsed
from shared.contracts.work import FieldChange, ItemEdited, OutgoingAttachment, SendReply

__all__ = [
    "Address", "Attachment", "BlobRef", "Classification", "DeliveryReport", "Envelope", "ItemChanged", "ItemRef",
    "ItemSummary", "MailFetched", "MailParsed", "MailSummary", "StatusChange", "Withheld", "UndecodableMessage",
    "decode", "derived_id", "registered_keys", "FieldChange", "ItemEdited", "OutgoingAttachment", "SendReply",
]
