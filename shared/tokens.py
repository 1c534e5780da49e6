"""Item tokens: how an item is named in a subject (``[#123]``) and, signed, in our Message-IDs.

The subject token is readable and guessable. A Message-ID token carries an HMAC over the item type,
the number, the mail's unique tail and the one recipient the mail was sent to (the notifier writes
one mail per recipient): a reply threading to it proves its sender is the person we wrote to. A
token forwarded to someone else checks out for nobody but that recipient. Tokens of the first
shape (HMAC over type and number only) still verify, as ``bound=False``: they prove only that the
sender saw our mail, so the append rules ask more of them (services/itemwriter/matching.py).

Several secrets may be given: the first signs, every one verifies (rotation).
"""

from __future__ import annotations

import hashlib
import hmac
import re
import uuid
from dataclasses import dataclass
from typing import NamedTuple


class TokenRef(NamedTuple):
    item_type: str
    number: int
    valid: bool  # the HMAC checked out (for a bound token: for the sender given)
    bound: bool  # a recipient-bound token whose recipient is the sender given


@dataclass(frozen=True)
class ItemTokens:
    subject_format: str  # e.g. "[#{number}]"
    secret: str
    older_secrets: tuple[str, ...] = ()  # still verify, never sign

    def subject_token(self, number: int) -> str:
        return self.subject_format.format(number=number)

    @property
    def _subject_re(self) -> re.Pattern[str]:
        head, _, tail = self.subject_format.partition("{number}")
        return re.compile(re.escape(head) + r"(\d{1,9})" + re.escape(tail))

    def numbers_in_subject(self, subject: str) -> list[int]:
        return [int(n) for n in self._subject_re.findall(subject or "")]

    @staticmethod
    def _mac(secret: str, text: str) -> str:
        return hmac.new(secret.encode(), text.encode(), hashlib.sha256).hexdigest()[:16]

    def _verifies(self, sig: str, text: str) -> bool:
        return any(hmac.compare_digest(sig, self._mac(s, text)) for s in (self.secret, *self.older_secrets))

    @staticmethod
    def _bound_text(item_type: str, number: int, recipient: str, tail: str) -> str:
        return f"{item_type}:{number}:{recipient.strip().lower()}:{tail}"

    def message_id(self, item_type: str, number: int, domain: str, unique: str | None = None,
                   recipient: str | None = None) -> str:
        """A Message-ID for mail we send about an item; ``unique`` makes it stable when given.
        ``recipient``: the one address the mail goes to, bound into the token (always give it)."""
        tail = unique or uuid.uuid4().hex
        if recipient:
            sig = "b" + self._mac(self.secret, self._bound_text(item_type, number, recipient, tail))
        else:
            sig = self._mac(self.secret, f"{item_type}:{number}")
        return f"<postroom.{item_type}.{number}.{sig}.{tail}@{domain}>"

    _MSGID_RE = re.compile(r"postroom\.([a-z0-9_-]{1,40})\.(\d{1,9})\.(b?)([0-9a-f]{16})\.([^@<>\s]{1,200})@")

    def items_in_message_id(self, message_id: str, sender: str | None = None) -> list[TokenRef]:
        """Each of our tokens in a Message-ID; a bound token is valid only for its own recipient."""
        found = []
        for item_type, number, bound, sig, tail in self._MSGID_RE.findall(message_id or ""):
            if bound:
                ok = bool(sender) and self._verifies(sig, self._bound_text(item_type, int(number), sender or "", tail))
                found.append(TokenRef(item_type, int(number), ok, ok))
            else:
                found.append(TokenRef(item_type, int(number), self._verifies(sig, f"{item_type}:{number}"), False))
        return found

    def loop_value(self, label: str, message_id: str) -> str:
        """The ``X-Postroom-Loop`` value of a mail we send: a label and an HMAC over its Message-ID,
        so a loop header a stranger writes is not believed."""
        return f"{label}; sig={self._mac(self.secret, 'loop:' + message_id.strip())}"

    def loop_is_ours(self, value: str, message_id: str | None) -> bool:
        sig = re.search(r"sig=([0-9a-f]{16})", value or "")
        return bool(sig and message_id and self._verifies(sig.group(1), "loop:" + message_id.strip()))
