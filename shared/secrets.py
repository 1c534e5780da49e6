"""Secrets at rest: passwords, client secrets and refresh tokens are sealed with Fernet (AES-128-CBC
+ HMAC-SHA256) under a key that never enters the database: ``POSTROOM_SECRET_KEYS`` (comma-separated,
newest first, so old keys keep opening what they sealed during a rotation) or a mounted key file.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any

from cryptography.fernet import Fernet, InvalidToken, MultiFernet


class SecretsUnavailable(Exception):
    """No key is configured, or none of the keys opens a sealed value."""


def new_key() -> str:
    return Fernet.generate_key().decode()


class SecretBox:
    def __init__(self, keys: Sequence[str]) -> None:
        self._keys = [k.strip() for k in keys if k.strip()]
        self._fernet = MultiFernet([Fernet(k.encode()) for k in self._keys]) if self._keys else None

    def _require(self) -> MultiFernet:
        if self._fernet is None:
            raise SecretsUnavailable("no secret key configured: set POSTROOM_SECRET_KEYS or POSTROOM_SECRET_KEY_FILE")
        return self._fernet

    def seal(self, values: dict[str, Any]) -> str | None:
        if not values:
            return None
        return self._require().encrypt(json.dumps(values).encode()).decode()

    def open(self, sealed: str | None) -> dict[str, Any]:
        if not sealed:
            return {}
        try:
            return json.loads(self._require().decrypt(sealed.encode()))
        except InvalidToken:
            raise SecretsUnavailable("no configured key opens this secret (was the key rotated away?)") from None

    def rotate(self, sealed: str | None) -> str | None:
        """Re-seal under the newest key (``postroom secrets rotate``)."""
        if not sealed:
            return sealed
        try:
            return self._require().rotate(sealed.encode()).decode()
        except InvalidToken:
            raise SecretsUnavailable("no configured key opens this secret (was the key rotated away?)") from None

    @property
    def key_count(self) -> int:
        return len(self._keys)


MASK = "********"


def mask_secrets(text: str, secrets: Mapping[str, Any]) -> str:
    """``text`` with each occurrence of a secret's value masked and nothing else: a server's answer
    that quotes a password stays readable around it. Longer values go first, so a secret that
    contains another is masked whole; the escaped forms a server's answer may carry a value in
    (Python's escapes of a str or of its UTF-8 bytes) are masked too. A number is a value as written."""
    forms: set[str] = set()
    for value in secrets.values():
        if isinstance(value, int | float) and not isinstance(value, bool):
            value = str(value)
        if isinstance(value, str) and value:
            forms |= {value, ascii(value)[1:-1], repr(value.encode())[2:-1]}
    for form in sorted(forms, key=len, reverse=True):
        text = text.replace(form, MASK)
    return text
