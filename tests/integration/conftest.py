"""Fixtures of the fetcher's integration tests: the fetcher over a memory broker, IMAP faults."""

from __future__ import annotations

from typing import Any

import pytest

from tests.support.fetching import fetcher_settings, running_fetcher
from tests.support.imapfaults import FaultyFactory


@pytest.fixture
def faults() -> FaultyFactory:
    return FaultyFactory()


@pytest.fixture
def fetcher(database_url: str, tmp_path: Any, secret_key: str, memory_broker: Any,  # type: ignore[no-untyped-def]
            faults: FaultyFactory):
    """Start the fetcher (a context manager), its IMAP connections made through ``faults``."""
    def start(**overrides: Any):  # type: ignore[no-untyped-def]
        return running_fetcher(fetcher_settings(database_url, tmp_path, secret_key, **overrides), memory_broker,
                               imap_factory=faults)
    return start

