"""imaplib's protocol trace is formatted only when a logger would keep it."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from types import SimpleNamespace

import pytest

from shared.mailboxes.imapclient_shim import quiet_trace


@pytest.fixture
def trace_logger() -> Iterator[logging.Logger]:
    logger = logging.getLogger("imapclient.imaplib")
    before = logger.level
    yield logger
    logger.setLevel(before)  # setLevel, not the attribute: it also clears the loggers' level cache


def client_with_imaplib_trace_on() -> SimpleNamespace:
    """The shape imapclient leaves behind: its imaplib object at debug level 5."""
    return SimpleNamespace(_imap=SimpleNamespace(debug=5))


def test_the_trace_is_turned_off_when_its_logger_would_drop_it(trace_logger: logging.Logger) -> None:
    trace_logger.setLevel(logging.WARNING)
    client = client_with_imaplib_trace_on()
    quiet_trace(client)
    assert client._imap.debug == 0


def test_the_trace_is_kept_when_its_logger_is_at_debug(trace_logger: logging.Logger) -> None:
    trace_logger.setLevel(logging.DEBUG)
    client = client_with_imaplib_trace_on()
    quiet_trace(client)
    assert client._imap.debug == 5


def test_a_client_without_an_imaplib_object_is_left_alone() -> None:
    quiet_trace(SimpleNamespace())
