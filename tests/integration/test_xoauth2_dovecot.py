"""XOAUTH2 logins against a real Dovecot whose oauth2 passdb introspects tokens at a local endpoint,
with the access token our token provider obtained from the (fake) Microsoft authority."""

from __future__ import annotations

import poplib
from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
from imapclient import IMAPClient

from shared.mailboxes.xoauth2 import XOAuth2Refused, imap_login, pop3_login
from tests.support.dovecot_oauth import Introspection, OAuthDovecot, oauth_dovecot
from tests.support.fake_authority import tokens
from tests.support.oauth_world import MICROSOFT, OAuthWorld, world  # noqa: F401 (fixture)

USER = "support@contoso.example"


@pytest.fixture(scope="module")
def dovecot() -> Iterator[tuple[OAuthDovecot, Introspection]]:
    with oauth_dovecot() as running:
        yield running


@pytest.fixture
def provider_token(world: OAuthWorld, dovecot: tuple[OAuthDovecot, Introspection]) -> str:
    """Sign in by device code; the introspection endpoint learns the token the authority issued."""
    world.add_account("support", "graph", MICROSOFT)
    auth = world.authenticators("support")
    flow, cache = auth.start_device_flow()
    world.authority.answer(tokens(access="imap-at-1", refresh="rt-1", user=USER))
    grant = auth.finish_device_flow(flow, cache)
    world.store.connected("support", "microsoft", "device_code", grant.cache, grant.expires_at, datetime.now(UTC))
    dovecot[1].tokens["imap-at-1"] = USER
    return world.provider("support")()


def test_imap_xoauth2_logs_in_with_the_provider_token(dovecot, provider_token: str) -> None:
    server, known = dovecot
    with IMAPClient("127.0.0.1", port=server.imap_port, ssl=False, timeout=10) as client:
        imap_login(client, USER, provider_token)
        assert client.select_folder("INBOX")[b"EXISTS"] == 0
    assert known.asked[-1] == "imap-at-1"


def test_imap_xoauth2_with_a_revoked_token_is_refused_without_the_token_in_the_error(dovecot) -> None:
    server, _ = dovecot
    with IMAPClient("127.0.0.1", port=server.imap_port, ssl=False, timeout=10) as client:
        with pytest.raises(XOAuth2Refused) as caught:
            imap_login(client, USER, "revoked-token-value")
    assert "revoked-token-value" not in str(caught.value)


@pytest.mark.parametrize("form", ["one-line", "two-line"])
def test_pop3_xoauth2_logs_in_in_both_forms(dovecot, provider_token: str, form: str) -> None:
    server, _ = dovecot
    conn = poplib.POP3("127.0.0.1", server.pop3_port, timeout=10)
    try:
        pop3_login(conn, USER, provider_token, form)  # type: ignore[arg-type]
        assert conn.stat() == (0, 0)
    finally:
        conn.quit()


@pytest.mark.parametrize("form", ["one-line", "two-line"])
def test_pop3_xoauth2_with_a_bad_token_is_refused_in_both_forms(dovecot, form: str) -> None:
    server, _ = dovecot
    conn = poplib.POP3("127.0.0.1", server.pop3_port, timeout=10)
    try:
        with pytest.raises(XOAuth2Refused):
            pop3_login(conn, USER, "not-a-token", form)  # type: ignore[arg-type]
    finally:
        conn.close()


def test_the_fetchers_imap_and_pop3_adapters_log_in_with_xoauth2_through_the_token_provider(
        dovecot, provider_token: str, world: OAuthWorld) -> None:
    """An imap/pop3 account with auth: xoauth2 asks the provider for the token only after connecting."""
    from shared.mailboxes.imap import close_quietly, open_imap
    from shared.mailboxes.mailconfig import ImapConfig, Pop3Config
    from shared.mailboxes.pop3 import open_pop3

    server, known = dovecot
    common = {"host": "127.0.0.1", "user": USER, "tls": "none", "auth": "xoauth2", "oauth": MICROSOFT}
    client = open_imap(ImapConfig(port=server.imap_port, **common), "", token=world.provider("support"))
    assert client.select_folder("INBOX")[b"EXISTS"] == 0
    close_quietly(client)
    mailbox = open_pop3(Pop3Config(port=server.pop3_port, xoauth2_form="two-line", **common), "",
                        token=world.provider("support"))
    assert mailbox.listing() == []
    mailbox.quit()
