"""The per-account fetch-health gauges, as Prometheus scrapes them from the fetcher's /metrics, after a
real fetch from Dovecot and after a real refused login. The alerts PostroomAccountNotFetching and
PostroomAccountFetchFailing read exactly these series."""

from __future__ import annotations

import time
import urllib.request
import uuid
from collections.abc import Iterator
from email.utils import format_datetime
from datetime import UTC, datetime, timedelta

import pytest
from prometheus_client.parser import text_string_to_metric_families

from shared.health import HealthState, serve_health
from tests.support.dovecot import sample_mail
from tests.support.fetching import apply_account, imap_account
from tests.support.servers import free_port
from tests.support.waiting import wait_for

GAUGES = ("postroom_account_last_fetch_success", "postroom_account_last_success_timestamp_seconds",
          "postroom_account_fetch_interval_seconds", "postroom_account_fetch_lag_seconds")


@pytest.fixture
def scrape() -> Iterator:  # type: ignore[type-arg]
    """Read the account's fetch-health series from a /metrics endpoint served by shared.health."""
    server = serve_health(HealthState(), free_port(), host="127.0.0.1")

    def read(account: str) -> dict[str, float]:
        url = f"http://127.0.0.1:{server.server_port}/metrics"
        with urllib.request.urlopen(url, timeout=5) as response:
            text = response.read().decode()
        return {sample.name: sample.value for family in text_string_to_metric_families(text)
                for sample in family.samples if sample.name in GAUGES and sample.labels.get("account") == account}

    yield read
    server.shutdown()


def received_mail(n: int, at: datetime) -> bytes:
    """A sample mail as the mailbox's server delivered it at ``at`` (its topmost Received field)."""
    trace = (f"Received: from mx.example.org (mx.example.org [192.0.2.1])\r\n\tby mail.example.com with ESMTP"
             f" id 4XyZ; {format_datetime(at)}\r\n")
    return trace.encode() + sample_mail(n)


def test_a_successful_fetch_sets_success_its_time_the_interval_and_the_lag(mail_user, sessions, secret_box,
                                                                           memory_broker, fetcher, scrape):
    """After a mail is fetched: success 1, its time now, the interval of an IDLE account (the IDLE
    renewal period), and the lag from the mail's Received date."""
    account = f"ok-{uuid.uuid4().hex[:8]}"
    mail_user.append(received_mail(1, datetime.now(UTC) - timedelta(minutes=5)))
    apply_account(sessions, secret_box, **imap_account(mail_user, name=account, poll_interval=30))
    before = time.time()
    with fetcher(reidle_after=600.0):
        wait_for(lambda: len(memory_broker.published) == 1, what="the mail")
        series = wait_for(lambda: (s := scrape(account)) and len(s) == 4 and s, what="the four gauges")
    assert series["postroom_account_last_fetch_success"] == 1
    assert before <= series["postroom_account_last_success_timestamp_seconds"] <= time.time()
    assert series["postroom_account_fetch_interval_seconds"] == 600.0
    assert 295 <= series["postroom_account_fetch_lag_seconds"] <= 330


def test_a_polled_account_exports_its_poll_interval(mail_user, sessions, secret_box, memory_broker, fetcher,
                                                    scrape):
    """Without IDLE the interval is the account's poll_interval."""
    account = f"poll-{uuid.uuid4().hex[:8]}"
    apply_account(sessions, secret_box, **imap_account(mail_user, name=account, poll_interval=45, idle=False))
    with fetcher():
        series = wait_for(lambda: scrape(account).get("postroom_account_fetch_interval_seconds"),
                          what="the interval gauge")
    assert series == 45.0


def test_a_refused_login_sets_success_to_zero_and_no_success_time(mail_user, sessions, secret_box, memory_broker,
                                                                  fetcher, scrape):
    """A wrong password: last_fetch_success 0; a time of success never seen is not invented."""
    account = f"bad-{uuid.uuid4().hex[:8]}"
    apply_account(sessions, secret_box, **imap_account(mail_user, name=account, password="not-the-password"))
    with fetcher():
        series = wait_for(lambda: (s := scrape(account)) and "postroom_account_last_fetch_success" in s and s,
                          what="the success gauge")
    assert series == {"postroom_account_last_fetch_success": 0}


def test_a_failure_after_a_success_keeps_the_time_of_that_success(mail_user, sessions, secret_box, memory_broker,
                                                                  fetcher, scrape):
    """The password changed after a good fetch: success 0, the last success time kept from the
    account's health row when the fetcher starts again, so the not-fetching alert sees it age."""
    account = f"turned-{uuid.uuid4().hex[:8]}"
    apply_account(sessions, secret_box, **imap_account(mail_user, name=account))
    with fetcher():
        first = wait_for(lambda: scrape(account).get("postroom_account_last_success_timestamp_seconds"),
                         what="a first success")
    assert scrape(account) == {}, "a stopped worker leaves no series behind"
    apply_account(sessions, secret_box, **imap_account(mail_user, name=account, password="changed-since"))
    with fetcher():
        series = wait_for(lambda: (s := scrape(account)).get("postroom_account_last_fetch_success") == 0 and s,
                          what="the failure")
    assert series["postroom_account_last_success_timestamp_seconds"] == pytest.approx(first, abs=1.0)
