"""How often Graph and Gmail accounts are asked, and how long a throttling answer makes them wait:
a default of a few seconds, a floor refused with a message that says why, and ``Retry-After`` read as
delay-seconds or as an HTTP-date (RFC 9110 section 10.2.3)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from pathlib import Path

import pytest
from pydantic import ValidationError

from shared.accounts.specs import AccountSpec
from shared.mailboxes.apiconfig import POLL_DEFAULT, POLL_FLOOR, GmailConfig, GraphConfig
from shared.mailboxes.ratelimit import DEFAULT_RETRY_AFTER, retry_after_seconds

NOW = datetime(2026, 12, 3, 12, 0, tzinfo=UTC)
OAUTH = {"provider": "microsoft", "client_id": "cid", "tenant": "contoso.example"}


def test_graph_and_gmail_accounts_are_asked_every_few_seconds_by_default() -> None:
    assert GraphConfig(mailbox="s@contoso.example").poll_interval == POLL_DEFAULT == 5.0
    assert GmailConfig().poll_interval == POLL_DEFAULT
    assert GmailConfig(poll_interval=POLL_FLOOR).poll_interval == 2.0


@pytest.mark.parametrize("model", [GmailConfig, GraphConfig])
def test_an_interval_below_the_floor_is_refused_saying_the_floor(model) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(ValidationError, match="poll_interval must be at least 2 seconds"):
        model(mailbox="s@contoso.example", poll_interval=0.5)


def test_an_accounts_file_with_too_short_an_interval_is_refused_when_applied(tmp_path: Path) -> None:
    with pytest.raises(ValidationError, match="at least 2 seconds"):
        AccountSpec.model_validate({"name": "s", "kind": "graph", "address": "s@contoso.example", "project": "P",
                                    "oauth": OAUTH, "poll_interval": 1})
    spec = AccountSpec.model_validate({"name": "s", "kind": "graph", "address": "s@contoso.example",
                                       "project": "P", "oauth": OAUTH, "folder": "Inbox/Support"})
    assert spec.config(tmp_path)["folder"] == "Inbox/Support"


@pytest.mark.parametrize(("value", "seconds"), [
    ("2", 2.0), ("7.5", 7.5), ("0", 1.0),  # at least a second: never a tight loop
    (format_datetime(NOW + timedelta(seconds=42), usegmt=True), 42.0),
    (format_datetime(NOW - timedelta(seconds=5), usegmt=True), 1.0),  # a date gone by
    ("Thu, 03 Dec 2026 12:00:10 GMT", 10.0),
    (None, DEFAULT_RETRY_AFTER), ("", DEFAULT_RETRY_AFTER), ("soon", DEFAULT_RETRY_AFTER)])
def test_retry_after_is_read_as_seconds_or_an_http_date(value: str | None, seconds: float) -> None:
    assert retry_after_seconds(value, now=NOW) == seconds
