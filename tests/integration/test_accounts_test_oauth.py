"""``postroom accounts test NAME`` for OAuth accounts: the token from the fetcher's token provider
(fake Microsoft authority over HTTPS, fake Google token endpoint), then folders or labels and the
message count through the fetcher's Graph and Gmail clients (HTTP fakes), or IMAP/POP3 XOAUTH2 at a
real Dovecot; a missing or refused sign-in is an AUTH failure that says what to do."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from shared.oauth.store import TokenStore
from tests.support.dovecot_oauth import Introspection, OAuthDovecot, oauth_dovecot
from tests.support.fake_authority import aad_error, tokens
from tests.support.fake_gmail import FakeGmail
from tests.support.fake_graph import FakeMailbox, serve_graph
from tests.support.oauth_cli import OAuthCli, oauth_cli  # noqa: F401 (fixture)
from tests.support.oauth_servers import stop
from tests.support.servers import free_port


@pytest.fixture
def graph() -> Iterator[tuple[FakeMailbox, str]]:
    mailbox = FakeMailbox()
    server, base = serve_graph(mailbox)
    yield mailbox, base
    stop(server)


@pytest.fixture
def gmail() -> Iterator[tuple[FakeGmail, str]]:
    fake = FakeGmail(counts={"INBOX": 4, "Label_3": 2})
    server, base = fake.serve()
    yield fake, base
    stop(server)


@pytest.fixture(scope="module")
def dovecot() -> Iterator[tuple[OAuthDovecot, Introspection]]:
    with oauth_dovecot() as running:
        yield running


def test_a_graph_account_reports_its_folders_and_the_count_of_the_folder_it_reads(oauth_cli: OAuthCli, graph):
    mailbox, base = graph
    for n in range(3):
        mailbox.deliver(f"m{n}", b"Subject: x\r\n\r\nbody\r\n")
    mailbox.deliver("old", b"Subject: old\r\n\r\n", folder="archive")
    oauth_cli.add("support", "graph", oauth_cli.microsoft, base_url=base)
    oauth_cli.sign_in_microsoft("support", "graph-at-1")
    mailbox.valid_tokens.add("graph-at-1")
    result = oauth_cli.cli("test", "support")
    assert result.exit_code == 0, result.output
    assert "signed in and read mailbox support@contoso.example through Microsoft Graph" in result.output
    assert "folders: Archive, Inbox" in result.output and "inbox: 3 message(s)" in result.output
    assert set(mailbox.tokens_seen) == {"graph-at-1"} and "graph-at-1" not in result.output
    assert all(method == "GET" for method, _ in mailbox.log)  # nothing changed at the mailbox


def test_an_account_never_connected_says_to_run_connect(oauth_cli: OAuthCli, graph):
    oauth_cli.add("support", "graph", oauth_cli.microsoft, base_url=graph[1])
    result = oauth_cli.cli("test", "support")
    assert result.exit_code == 1
    assert "not signed in yet: run postroom accounts connect support" in result.output
    assert graph[0].log == [] and oauth_cli.authority.token_requests == []


def test_a_refused_refresh_is_an_auth_error_with_the_providers_reason_and_is_recorded(oauth_cli: OAuthCli, graph):
    """The access token is about to expire, the authority refuses the refresh token (AADSTS70008)."""
    oauth_cli.add("support", "graph", oauth_cli.microsoft, base_url=graph[1])
    oauth_cli.sign_in_microsoft("support", "graph-at-1", expires_in=60)
    oauth_cli.authority.answer(aad_error("invalid_grant", 70008))
    result = oauth_cli.cli("test", "support")
    assert result.exit_code == 1 and "AUTH error signing in with Microsoft" in result.output
    assert "AADSTS70008" in result.output and "postroom accounts connect support" in result.output
    assert oauth_cli.authority.token_requests[-1]["grant_type"] == "refresh_token" and graph[0].log == []
    assert TokenStore(oauth_cli.sessions, oauth_cli.box).load("support").state == "auth_failed"


def test_a_token_the_mailbox_refuses_is_an_auth_error_after_one_fresh_token(oauth_cli: OAuthCli, graph):
    """Graph answers 401 to the stored token and to the one refreshed for the retry."""
    mailbox, base = graph
    oauth_cli.add("support", "graph", oauth_cli.microsoft, base_url=base)
    oauth_cli.sign_in_microsoft("support", "graph-at-1")
    oauth_cli.authority.answer(tokens(access="graph-at-2", refresh="rt-2"))
    result = oauth_cli.cli("test", "support")
    assert result.exit_code == 1 and "AUTH error" in result.output and "401" in result.output
    assert mailbox.tokens_seen == ["graph-at-1", "graph-at-2"]


def test_a_gmail_account_reports_its_labels_and_the_count_of_the_labels_it_reads(oauth_cli: OAuthCli, gmail):
    fake, base = gmail
    oauth_cli.add("gmail", "gmail", oauth_cli.google_oauth, base_url=base, labels=["INBOX", "Label_3"],
                  client_secret="GOCSPX-s3cret")
    oauth_cli.sign_in_google("gmail", "ya29.gm-1")
    fake.valid_tokens.add("ya29.gm-1")
    result = oauth_cli.cli("test", "gmail")
    assert result.exit_code == 0, result.output
    assert "signed in and read the mailbox through the Gmail API" in result.output
    assert "labels: INBOX, Support (Label_3)" in result.output and "INBOX, Label_3: 6 message(s)" in result.output
    assert "ya29.gm-1" not in result.output and "GOCSPX-s3cret" not in result.output


def test_a_revoked_google_grant_is_an_auth_error_naming_invalid_grant(oauth_cli: OAuthCli, gmail):
    fake, base = gmail
    oauth_cli.add("gmail", "gmail", oauth_cli.google_oauth, base_url=base, client_secret="GOCSPX-s3cret")
    oauth_cli.sign_in_google("gmail", "ya29.gm-1", expires_in=60)  # inside the refresh margin
    oauth_cli.google.answer({"error": "invalid_grant", "error_description": "Token has been expired or revoked."})
    result = oauth_cli.cli("test", "gmail")
    assert result.exit_code == 1 and "AUTH error signing in with Google" in result.output
    assert "invalid_grant" in result.output and fake.tokens_seen == []
    assert oauth_cli.google.requests[-1]["grant_type"] == ["refresh_token"]


@pytest.mark.parametrize("kind", ["imap", "pop3"])
def test_imap_and_pop3_with_xoauth2_log_in_with_the_stored_sign_in(oauth_cli: OAuthCli, dovecot, kind: str):
    server, known = dovecot
    port = server.imap_port if kind == "imap" else server.pop3_port
    oauth_cli.add("support", kind, oauth_cli.microsoft, host="127.0.0.1", port=port, tls="none",
                  user="support@contoso.example", auth="xoauth2")
    oauth_cli.sign_in_microsoft("support", f"{kind}-at-1")
    known.tokens[f"{kind}-at-1"] = "support@contoso.example"
    result = oauth_cli.cli("test", "support")
    assert result.exit_code == 0, result.output
    assert "connected and logged in" in result.output and known.asked[-1] == f"{kind}-at-1"
    assert ("INBOX: 0 message(s)" if kind == "imap" else "maildrop: 0 message(s)") in result.output


def test_an_xoauth2_token_the_server_refuses_is_an_auth_error(oauth_cli: OAuthCli, dovecot):
    server, _ = dovecot
    oauth_cli.add("support", "imap", oauth_cli.microsoft, host="127.0.0.1", port=server.imap_port, tls="none",
                  user="support@contoso.example", auth="xoauth2")
    oauth_cli.sign_in_microsoft("support", "unknown-to-the-server")
    result = oauth_cli.cli("test", "support")
    assert result.exit_code == 1 and "AUTH error" in result.output and "XOAUTH2" in result.output
    assert "unknown-to-the-server" not in result.output


def test_an_unreachable_sign_in_service_is_an_auth_error_to_try_again_later(oauth_cli: OAuthCli, graph):
    """The stored sign-in stays usable: nothing was refused."""
    oauth_cli.add("support", "graph", oauth_cli.microsoft, base_url=graph[1])
    oauth_cli.sign_in_microsoft("support", "graph-at-1")
    oauth_cli.add("support", "graph", {**oauth_cli.microsoft, "authority_host": f"https://127.0.0.1:{free_port()}"},
                  base_url=graph[1])
    result = oauth_cli.cli("test", "support")
    assert result.exit_code == 1 and "AUTH error signing in with Microsoft (try again later)" in result.output
    assert "unreachable" in result.output and graph[0].log == []
    assert TokenStore(oauth_cli.sessions, oauth_cli.box).load("support").state == "ok"
