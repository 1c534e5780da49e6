"""The loop governor: whom we must never answer automatically, and why."""

from __future__ import annotations

import re

from shared.contracts import ItemChanged

_SYSTEM_SENDER = re.compile(r"^(mailer-daemon|postmaster|no-?reply|do-?not-?reply|bounces?)([+-].*)?@", re.I)


def auto_reply_refusal(event: ItemChanged, recipient: str | None, own_addresses: set[str]) -> str | None:
    """The reason not to auto-reply, or None when the reply may go."""
    if not event.auto_reply:
        return "the account sends no auto-reply for this change"
    if event.mail.classification.automatic:
        return f"the mail is automatic ({event.mail.classification.kind}: {event.mail.classification.reason})"
    if not recipient:
        return "the mail has no sender address"
    if _SYSTEM_SENDER.match(recipient):
        return f"{recipient} is a mail system address"
    if recipient.lower() in own_addresses:
        return f"{recipient} is one of our own addresses"
    return None
