"""Graph accounts as the fetcher workers' sessions: fetched with the provider's token, refused
sign-ins recorded as ``auth_failed`` without asking the authority again, throttling waited out; and
no token, secret or XOAUTH2 string in any log line along the way."""

from __future__ import annotations

import base64
import io
import poplib
import threading
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from services.fetcher.apiaccounts import ApiSession, OAuthParts
from shared.mailboxes.failures import classify
from shared.oauth.errors import AuthFailed
from shared.mailboxes.xoauth2 import XOAuth2Refused, pop3_login, xoauth2_string
from shared.broker.memory import MemoryBroker
from shared.logging import configure_logging
from shared.store import FilesystemBlobStore
from tests.support.fake_authority import aad_error, tokens
from tests.support.fake_graph import FakeMailbox, serve_graph
from tests.support.oauth_world import MICROSOFT, OAuthWorld, world  # noqa: F401 (fixture)

SECRETS = ("graph-at-1", "graph-at-2", "rt-one", "rt-two", "app-secret-value")


class RecordingStop(threading.Event):
    """The worker's stop event; its waits (the back-off) recorded instead of slept."""

    def __init__(self) -> None:
        super().__init__()
        self.waits: list[float | None] = []

    def wait(self, timeout: float | None = None) -> bool:
        self.waits.append(timeout)
        return self.is_set()


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


def session_for(world: OAuthWorld, url: str, tmp_path: Path) -> tuple[ApiSession, MemoryBroker]:
    world.add_account("support", "graph", MICROSOFT, base_url=url, client_secret="app-secret-value")
    auth = world.authenticators("support")
    flow, cache = auth.start_device_flow()
    world.authority.answer(tokens(access="graph-at-1", refresh="rt-one", expires_in=60))
    grant = auth.finish_device_flow(flow, cache)
    world.store.connected("support", "microsoft", "device_code", grant.cache, grant.expires_at, datetime.now(UTC))
    broker = MemoryBroker()
    broker.declare()
    oauth = OAuthParts(world.sessions, world.authenticators, world.store, world.provider)
    # existing_mail: import, since the mail delivered before the first sync is meant as new mail here
    config = {"mailbox": "support@contoso.example", "base_url": url, "existing_mail": "import"}
    return ApiSession("support", "graph", config, oauth, FilesystemBlobStore(tmp_path / "store"), broker), broker


def test_a_graph_account_is_fetched_then_fails_as_auth_failed_with_no_secret_in_the_logs(
        world: OAuthWorld, graph, tmp_path: Path, logs: io.StringIO) -> None:
    mailbox, url = graph
    session, broker = session_for(world, url, tmp_path)
    mailbox.deliver("m1", b"Subject: one\r\n\r\nbody\r\n")
    world.authority.answer(tokens(access="graph-at-2", refresh="rt-two"))  # the 60 s token is refreshed
    stop = RecordingStop()
    assert session.sync(stop) == 1
    assert len(broker.published) == 1 and mailbox.messages["m1"]["isRead"]
    assert "graph-at-2" in mailbox.tokens_seen

    mailbox.valid_tokens.discard("graph-at-2")  # the password was reset: Graph answers 401 ...
    world.authority.answer(aad_error("invalid_grant", 50173))  # ... and the forced refresh is refused
    mailbox.deliver("m2", b"Subject: two\r\n\r\nbody\r\n")
    with pytest.raises(AuthFailed) as caught:
        session.sync(stop)
    assert classify(caught.value).kind == "auth_failed"
    asked = len(world.authority.token_requests)
    with pytest.raises(AuthFailed):
        session.sync(stop)  # the worker's next attempt: refused from the stored state
    assert len(world.authority.token_requests) == asked
    assert not mailbox.messages["m2"]["isRead"] and len(broker.published) == 1
    OAuthParts(world.sessions, world.authenticators, world.store, world.provider).sweep_tokens()

    text = logs.getvalue()
    assert "oauth.auth_failed" in text and "AADSTS50173" in text
    for secret in SECRETS:
        assert secret not in text
    assert base64.b64encode(xoauth2_string("support@contoso.example", "graph-at-2").encode()).decode() not in text


def test_throttling_waits_the_time_graph_asked_for_then_resumes(world: OAuthWorld, graph, tmp_path: Path) -> None:
    mailbox, url = graph
    session, broker = session_for(world, url, tmp_path)
    world.authority.answer(tokens(access="graph-at-2", refresh="rt-two"))
    for _ in range(3):
        mailbox.faults.append((429, {"Retry-After": "40"}, {"error": {"code": "TooManyRequests"}}))
    mailbox.deliver("m1", b"Subject: one\r\n\r\n")
    stop = RecordingStop()
    assert session.sync(stop) == 0 and broker.published == []
    assert stop.waits[-1] == 40.0
    assert session.sync(stop) == 1


def test_a_refused_xoauth2_login_names_the_user_but_never_the_token() -> None:
    class Refusing:
        def _shortcmd(self, line: str) -> bytes:
            raise poplib.error_proto(b"-ERR [AUTH] Authentication failed.")

    with pytest.raises(XOAuth2Refused) as caught:
        pop3_login(Refusing(), "u@x", "graph-at-1", "one-line")  # type: ignore[arg-type]
    assert "u@x" in str(caught.value) and "graph-at-1" not in str(caught.value)
