"""Helpers for the parser's unit tests: parse bytes the way the service does, with no store."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

import pytest

from services.parser.handlers import normalize
from services.parser.limits import Limits
from shared.contracts import BlobRef, MailFetched, MailParsed
from shared.tokens import ItemTokens

FETCHED = MailFetched(account="test", source="stdin", source_id="t", received_at=datetime(2026, 1, 1, tzinfo=UTC),
                      raw=BlobRef(key="k", size=1, sha256="0" * 64))
TOKENS = ItemTokens("[#{number}]", "secret")


def parse(raw: bytes | str, limits: Limits | None = None) -> MailParsed:
    data = raw.encode() if isinstance(raw, str) else raw
    return normalize(data, FETCHED, None, TOKENS, limits or Limits())


@pytest.fixture
def parsed() -> Callable[..., MailParsed]:
    return parse
