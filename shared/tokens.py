"""Item tokens: how an item is named in a subject (``[#123]``) and, signed, in our Message-IDs.

The subject token is readable and guessable; the Message-ID token carries an HMAC over the item type
and number, so a reply threading to our mail proves it saw that mail.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import uuid
from dataclasses import dataclass


@dataclass(frozen=True)
class ItemTokens:
    subject_format: str  # e.g. "[#{number}]"
    secret: str

    def subject_token(self, number: int) -> str:
        return self.subject_format.format(number=number)

    @property
    def _subject_re(self) -> re.Pattern[str]:
        head, _, tail = self.subject_format.partition("{number}")
        return re.compile(re.escape(head) + r"(\d{1,9})" + re.escape(tail))

    def numbers_in_subject(self, subject: str) -> list[int]:
        return [int(n) for n in self._subject_re.findall(subject or "")]

    def _signature(self, item_type: str, number: int) -> str:
        mac = hmac.new(self.secret.encode(), f"{item_type}:{number}".encode(), hashlib.sha256)
        return mac.hexdigest()[:16]

    def message_id(self, item_type: str, number: int, domain: str, unique: str | None = None) -> str:
        """A Message-ID for mail we send about an item; ``unique`` makes it stable when given."""
        tail = unique or uuid.uuid4().hex
        return f"<postroom.{item_type}.{number}.{self._signature(item_type, number)}.{tail}@{domain}>"

    _MSGID_RE = re.compile(r"postroom\.([a-z0-9_-]{1,40})\.(\d{1,9})\.([0-9a-f]{16})\.")

    def items_in_message_id(self, message_id: str) -> list[tuple[str, int, bool]]:
        """(item type, number, signature valid) for each of our tokens in a Message-ID."""
        found = []
        for item_type, number, sig in self._MSGID_RE.findall(message_id or ""):
            valid = hmac.compare_digest(sig, self._signature(item_type, int(number)))
            found.append((item_type, int(number), valid))
        return found
