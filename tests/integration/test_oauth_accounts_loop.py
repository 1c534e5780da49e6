"""Graph accounts in the fetcher loop: fetched with the provider's token, parked on a refused
sign-in without asking the authority again, postponed when throttled; and no token, secret or
XOAUTH2 string in any log line along the way."""

from __future__ import annotations

import base64
import io
import threading
from collections.abc import Iterator
from datetime import UTC, datetime

import pytest

from services.fetcher.apiaccounts import PARKED, ApiAccounts
from services.fetcher.oauth.xoauth2 import XOAuth2Refused, pop3_login, xoauth2_string
from shared.broker.memory import MemoryBroker
from shared.logging import configure_logging
from shared.store import FilesystemBlobStore
from tests.support.fake_authority import aad_error, tokens
from tests.support.fake_graph import FakeMailbox, serve_graph
from tests.support.oauth_world import MICROSOFT, OAuthWorld, world  # noqa: F401 (fixture)

SECRETS = ("graph-at-1", "graph-at-2", "rt-one", "rt-two", "app-secret-value")


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def logs() -> Iterator[io.StringIO]:
    buffer = io.StringIO()
    configure_logging("DEBUG", "json", stream=buffer)
    yield buffer
    configure_logging("INFO", "console")


@pytest.fixture
def graph() -> Iterator[tuple[FakeMailbox, str]]:
    mailbox = FakeMailbox(valid_tokens={"graph-at-1", "graph-at-2"})
    server, url = serve_graph(mailbox)
    yield mailbox, url
    server.shutdown()


def connected(world: OAuthWorld, url: str, tmp_path) -> tuple[ApiAccounts, MemoryBroker, Clock]:  # type: ignore[no-untyped-def]
    world.add_account("support", "graph", MICROSOFT, base_url=url, client_secret="app-secret-value")
    auth = world.authenticators("support")
    flow, cache = auth.start_device_flow()
    world.authority.answer(tokens(access="graph-at-1", refresh="rt-one", expires_in=60))
    grant = auth.finish_device_flow(flow, cache)
    world.store.connected("support", "microsoft", "device_code", grant.cache, grant.expires_at, datetime.now(UTC))
    broker, clock = MemoryBroker(), Clock()
    broker.declare()
    api = ApiAccounts(world.sessions, FilesystemBlobStore(tmp_path / "store"), broker, world.authenticators,
                      world.provider, world.store, clock)
    return api, broker, clock


def rows(url: str) -> list[tuple[str, str, str, dict]]:
    return [("support", "graph", "support@contoso.example", {"base_url": url})]


def test_a_graph_account_is_fetched_then_parked_on_a_refused_refresh_with_no_secret_in_the_logs(
        world: OAuthWorld, graph, tmp_path, logs: io.StringIO) -> None:
    mailbox, url = graph
    api, broker, clock = connected(world, url, tmp_path)
    mailbox.deliver("m1", b"Subject: one\r\n\r\nbody\r\n")
    world.authority.answer(tokens(access="graph-at-2", refresh="rt-two"))  # the 60 s token is refreshed
    stop = threading.Event()
    api.poll(rows(url), stop)
    assert len(broker.published) == 1 and mailbox.messages["m1"]["isRead"]
    assert "graph-at-2" in mailbox.tokens_seen

    clock.now += 3600
    mailbox.valid_tokens.discard("graph-at-2")  # the password was reset: Graph answers 401
    world.authority.answer(aad_error("invalid_grant", 50173))
    mailbox.deliver("m2", b"Subject: two\r\n\r\nbody\r\n")
    api.poll(rows(url), stop)  # the forced refresh is refused: auth_failed, nothing fetched
    asked = len(world.authority.token_requests)
    clock.now += PARKED + 1
    api.poll(rows(url), stop)  # parked: the authority is not asked again
    assert len(world.authority.token_requests) == asked
    assert not mailbox.messages["m2"]["isRead"] and len(broker.published) == 1
    api.sweep_tokens()

    text = logs.getvalue()
    assert "oauth.auth_failed" in text and "AADSTS50173" in text
    for secret in SECRETS:
        assert secret not in text
    assert base64.b64encode(xoauth2_string("support@contoso.example", "graph-at-2").encode()).decode() not in text


def test_a_throttled_account_waits_the_time_graph_asked_for(world: OAuthWorld, graph, tmp_path) -> None:
    mailbox, url = graph
    api, broker, clock = connected(world, url, tmp_path)
    world.authority.answer(tokens(access="graph-at-2", refresh="rt-two"))
    for _ in range(3):
        mailbox.faults.append((429, {"Retry-After": "40"}, {"error": {"code": "TooManyRequests"}}))
    mailbox.deliver("m1", b"Subject: one\r\n\r\n")
    stop = threading.Event()
    api._due.clear()
    waits: list[float] = []
    stop.wait = lambda s=None: waits.append(s) or False  # type: ignore[method-assign]  # the back-off, recorded
    api.poll(rows(url), stop)
    assert api._due["support"] == clock.now + 40 and broker.published == []
    clock.now += 41
    api.poll(rows(url), stop)
    assert len(broker.published) == 1


def test_a_refused_xoauth2_login_names_the_user_but_never_the_token(logs: io.StringIO) -> None:
    class Refusing:
        def _shortcmd(self, line: str) -> bytes:
            import poplib

            raise poplib.error_proto(b"-ERR [AUTH] Authentication failed.")

    with pytest.raises(XOAuth2Refused) as caught:
        pop3_login(Refusing(), "u@x", "graph-at-1", "one-line")  # type: ignore[arg-type]
    assert "u@x" in str(caught.value) and "graph-at-1" not in str(caught.value)
