"""Graph and Gmail accounts read incrementally by the running fetcher (a Graph delta link, a Gmail
history id in the account's cursor) at the default interval of a few seconds: a mail delivered to the
fake mailbox is an item well within the old 60 s poll, and a fetcher restarted later resumes from the
cursor (no listing again, no mail published twice, no duplicate item)."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from services.fetcher.apicursors import ApiCursors
from tests.support.apisync import fetched_source_ids, fetching_into_items, item_count, mail
from tests.support.fake_gmail import FakeGmail
from tests.support.fake_graph import FakeMailbox, serve_graph
from tests.support.fetching import fetcher_settings
from tests.support.oauth_cli import OAuthCli, oauth_cli  # noqa: F401 (fixture)
from tests.support.oauth_servers import stop
from tests.support.waiting import wait_for

LATENCY_LIMIT = 10.0  # seconds; the old fixed poll was 60 s


@pytest.fixture
def graph() -> Iterator[tuple[FakeMailbox, str]]:
    mailbox = FakeMailbox(valid_tokens={"graph-at-1"})
    server, base = serve_graph(mailbox)
    yield mailbox, base
    stop(server)


@pytest.fixture
def gmail() -> Iterator[tuple[FakeGmail, str]]:
    fake = FakeGmail(valid_tokens={"ya29.gm-1"})
    server, base = fake.serve()
    yield fake, base
    stop(server)


def graph_account(oauth_cli: OAuthCli, base: str, **config: Any) -> None:
    oauth_cli.add("support", "graph", oauth_cli.microsoft, base_url=base, **config)
    oauth_cli.sign_in_microsoft("support", "graph-at-1")


def gmail_account(oauth_cli: OAuthCli, base: str, **config: Any) -> None:
    oauth_cli.add("support", "gmail", oauth_cli.google_oauth, base_url=base, **config)
    oauth_cli.sign_in_google("support", "ya29.gm-1")


def latencies(deliver: Any, sessions: Any, count: int) -> list[float]:
    """Deliver ``count`` mails one after the other; seconds from each delivery to its item."""
    took = []
    for n in range(count):
        before = item_count(sessions)
        started = time.monotonic()
        deliver(n)
        wait_for(lambda: item_count(sessions) > before, timeout=30, interval=0.05,  # noqa: B023
                 what=f"mail {n} as an item")
        took.append(time.monotonic() - started)
    return took


def test_a_mail_delivered_to_a_graph_mailbox_becomes_an_item_within_seconds(
        oauth_cli: OAuthCli, graph, database_url: str, secret_key: str, memory_broker, tmp_path: Path) -> None:
    """At the default interval (no poll_interval set) each mail is an item in under 10 s."""
    mailbox, base = graph
    graph_account(oauth_cli, base)
    settings = fetcher_settings(database_url, tmp_path, secret_key)
    with fetching_into_items(settings, memory_broker, oauth_cli.sessions):
        wait_for(lambda: any("/messages/delta" in p for _, p in mailbox.log), what="the first delta round")
        took = latencies(lambda n: mailbox.deliver(f"m{n}", mail(n)), oauth_cli.sessions, 3)
    print("Graph: delivered -> item, s:", [round(t, 2) for t in took])
    assert max(took) < LATENCY_LIMIT, took
    assert fetched_source_ids(memory_broker) == {"m0": 1, "m1": 1, "m2": 1}


def test_a_mail_delivered_to_a_gmail_mailbox_becomes_an_item_within_seconds(
        oauth_cli: OAuthCli, gmail, database_url: str, secret_key: str, memory_broker, tmp_path: Path) -> None:
    fake, base = gmail
    gmail_account(oauth_cli, base)
    settings = fetcher_settings(database_url, tmp_path, secret_key)
    with fetching_into_items(settings, memory_broker, oauth_cli.sessions):
        wait_for(lambda: ApiCursors(oauth_cli.sessions, "support").get("INBOX"), what="the first listing")
        took = latencies(lambda n: fake.deliver(f"g{n}", mail(n)), oauth_cli.sessions, 3)
    print("Gmail: delivered -> item, s:", [round(t, 2) for t in took])
    assert max(took) < LATENCY_LIMIT, took
    assert fetched_source_ids(memory_broker) == {"g0": 1, "g1": 1, "g2": 1}
    assert not any("UNREAD" in m["labels"] for m in fake.messages.values())  # released after the publish
    assert sum(1 for _, p in fake.log if p.startswith("/gmail/v1/users/me/messages?")) == 1  # listed once


def test_a_restarted_fetcher_resumes_a_graph_mailbox_from_the_stored_delta_link(
        oauth_cli: OAuthCli, graph, database_url: str, secret_key: str, memory_broker, tmp_path: Path) -> None:
    mailbox, base = graph
    graph_account(oauth_cli, base, poll_interval=2)
    for n in range(3):
        mailbox.deliver(f"m{n}", mail(n))
    settings = fetcher_settings(database_url, tmp_path, secret_key)
    with fetching_into_items(settings, memory_broker, oauth_cli.sessions):
        wait_for(lambda: item_count(oauth_cli.sessions) == 3, timeout=30, what="the first import")
    first_run = len(mailbox.log)
    mailbox.deliver("m3", mail(3))
    with fetching_into_items(settings, memory_broker, oauth_cli.sessions):
        wait_for(lambda: item_count(oauth_cli.sessions) == 4, timeout=30, what="the new mail after the restart")
        rounds = len([p for _, p in mailbox.log if "/messages/delta" in p])
        wait_for(lambda: len([p for _, p in mailbox.log if "/messages/delta" in p]) > rounds + 1, timeout=15,
                 what="two more delta rounds")  # would bring back what was released, if it did
    second_run = [p for _, p in mailbox.log[first_run:]]
    assert all("from=" in p for p in second_run if "/messages/delta" in p), "the restart began a new delta"
    assert fetched_source_ids(memory_broker) == {"m0": 1, "m1": 1, "m2": 1, "m3": 1}
    assert item_count(oauth_cli.sessions) == 4


def test_a_restarted_fetcher_resumes_a_gmail_mailbox_from_the_stored_history_id(
        oauth_cli: OAuthCli, gmail, database_url: str, secret_key: str, memory_broker, tmp_path: Path) -> None:
    fake, base = gmail
    gmail_account(oauth_cli, base, poll_interval=2)
    for n in range(3):
        fake.deliver(f"g{n}", mail(n))
    settings = fetcher_settings(database_url, tmp_path, secret_key)
    with fetching_into_items(settings, memory_broker, oauth_cli.sessions):
        wait_for(lambda: item_count(oauth_cli.sessions) == 3, timeout=30, what="the first import")
    first_run = len(fake.log)
    stored = ApiCursors(oauth_cli.sessions, "support").get("INBOX")
    fake.deliver("g3", mail(3))
    with fetching_into_items(settings, memory_broker, oauth_cli.sessions):
        wait_for(lambda: item_count(oauth_cli.sessions) == 4, timeout=30, what="the new mail after the restart")
        asked = len(fake.log)
        wait_for(lambda: len([p for _, p in fake.log[asked:] if "/history?" in p]) >= 2, timeout=15,
                 what="two more history rounds")
    second_run = [p for _, p in fake.log[first_run:]]
    assert not any(p.startswith("/gmail/v1/users/me/messages?") for p in second_run), "listed again"
    assert f"startHistoryId={stored}" in next(p for p in second_run if "/history?" in p)
    assert fetched_source_ids(memory_broker) == {"g0": 1, "g1": 1, "g2": 1, "g3": 1}
    assert item_count(oauth_cli.sessions) == 4
