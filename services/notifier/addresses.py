"""Addresses that no automatic mail, or no auto-reply, goes to: the defaults of the governor's
policy and of the settings that override it, in one place so the two never drift apart."""

from __future__ import annotations

# Mail systems and senders that say they take no replies: nothing automatic goes there, not even a
# notification (a watcher's address of this shape is a mistake, and a loop when it answers).
SYSTEM_SENDERS = r"^(mailer-daemon|postmaster|no-?reply|do-?not-?reply|bounces?|notifications?)([+.-].*)?@"

# The addresses of list software (RFC 3834 section 2 names "owner-*" and "*-request"; Mailman's
# "*-bounces", with its VERP form "list-bounces+alice=example.com@", and "*-bounce"): mail from them
# is the list's, and an auto-reply to it reaches the list's robot or every subscriber. Auto-replies
# only: a role mailbox such as it-request@ on an item's notification list was put there by a person.
LIST_ADDRESSES = r"^(owner-[^@]+|[^@]+-(request|bounces?)([+=][^@]*)?)@"
