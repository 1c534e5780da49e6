"""A person's reply as a mail: from the account's address under the author's name, to the customer,
threaded to their last mail, with the item's token in the subject and the Message-ID. A person wrote
it, so it carries no ``Auto-Submitted`` (RFC 3834 §5 is for automatic mail); the signed loop header
still marks it as ours should it ever come back. Built with the standard library's message API:
replies are few, and attachments make the fixed layout of compose.py too narrow."""

from __future__ import annotations

from email.headerregistry import Address as HeaderAddress
from email.message import EmailMessage
from email.policy import SMTP
from email.utils import format_datetime

from services.notifier.compose import LOOP_HEADER, Composed
from services.notifier.headers import header, one_line, references
from shared.contracts import Address, SendReply
from shared.db.models import utcnow
from shared.risky import risk
from shared.store import BlobStore


def _address(a: Address) -> HeaderAddress:
    return HeaderAddress(display_name=one_line(a.name), addr_spec=one_line(a.address))


def subject_with_token(subject: str, token: str) -> str:
    subject = one_line(subject)
    return subject if token in subject else f"{subject} {token}".strip()


def build_reply(reply: SendReply, *, from_address: str, token: str, message_id: str, loop_id: str,
                store: BlobStore) -> Composed:
    msg = EmailMessage(policy=SMTP)
    subject = subject_with_token(reply.subject, token)
    msg["Subject"] = subject
    msg["From"] = HeaderAddress(display_name=one_line(reply.author.name or reply.account), addr_spec=from_address)
    msg["To"] = [_address(a) for a in reply.to]
    if reply.cc:
        msg["Cc"] = [_address(a) for a in reply.cc]
    msg["Date"] = format_datetime(utcnow())
    msg["Message-ID"] = message_id
    msg[LOOP_HEADER] = loop_id
    msg.set_content(reply.text)
    if reply.html:
        msg.add_alternative(reply.html, subtype="html")
    for attachment in reply.attachments:
        if risk(attachment.filename, attachment.content_type):
            continue  # never sent, whoever asked (the application layer refuses them already)
        maintype, _, subtype = attachment.content_type.partition("/")
        msg.add_attachment(store.get(attachment.blob.key), maintype=maintype or "application",
                           subtype=subtype or "octet-stream", filename=one_line(attachment.filename))
    text = reply.text if reply.text.endswith("\n") else reply.text + "\n"
    return Composed(subject, from_address, text, _threading(reply).encode("ascii") + msg.as_bytes())


def _threading(reply: SendReply) -> str:
    """In-Reply-To and References, folded between Message-IDs only. Not through the message API: the
    standard library takes both for unstructured text and writes a Message-ID longer than a line (ours
    carry the item's token) as encoded words, which no client threads on and no parser reads back."""
    fields = header("In-Reply-To", reply.in_reply_to) if reply.in_reply_to else ""
    return fields + references(reply.references[-20:])
