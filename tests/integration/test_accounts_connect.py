"""``postroom accounts connect NAME`` run for real against the fake Microsoft authority (HTTPS) and
Google token endpoint: device code, client credentials, Google with ``--no-browser`` and the
redirect address pasted back (a child process, reading what it prints). The sign-in is stored
sealed, and ``accounts list`` / ``accounts tokens`` then show when it lapses."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import urllib.request
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import parse_qs, urlparse

from shared.db.models import OAuthToken
from tests.support.fake_authority import aad_error, tokens
from tests.support.fake_google import google_tokens
from tests.support.oauth_cli import GOOGLE_CLIENT_ID, OAuthCli, oauth_cli  # noqa: F401 (fixture)
from tests.support.servers import free_port


def _row(oauth_cli: OAuthCli, name: str) -> OAuthToken | None:
    with oauth_cli.sessions() as session:
        return session.get(OAuthToken, name)


def _add(oauth_cli: OAuthCli, kind: str, name: str, *options: str, input: str | None = None) -> None:  # noqa: A002
    """``accounts add`` as a script runs it, the provider's address set to the fake's."""
    where = (f"oauth.authority_host={oauth_cli.authority.host}" if kind == "graph"
             else f"oauth.token_uri={oauth_cli.google_token_uri}")
    client_id = oauth_cli.microsoft["client_id"] if kind == "graph" else GOOGLE_CLIENT_ID
    result = oauth_cli.cli("add", "--kind", kind, "--name", name, "--address", f"{name}@contoso.example",
                           "--project", "SUP", "--client-id", client_id, "--set", where, *options, input=input)
    assert result.exit_code == 0, result.output


def _sealed_apart(oauth_cli: OAuthCli, name: str, *clear: str) -> dict[str, Any]:
    """The stored sign-in: none of ``clear`` readable in the row, all of it in the opened cache."""
    row = _row(oauth_cli, name)
    assert row is not None and row.state == "ok"
    opened = oauth_cli.box.open(row.sealed_cache)
    for value in clear:
        assert value not in row.sealed_cache and value in json.dumps(opened)
    return opened


def test_device_code_sign_in_prints_the_code_and_stores_the_tokens_sealed(oauth_cli: OAuthCli) -> None:
    _add(oauth_cli, "graph", "support", "--tenant", "contoso.example")
    oauth_cli.authority.answer(tokens(access="at-device-1", refresh="rt-device-1"))
    result = oauth_cli.cli("connect", "support")
    assert result.exit_code == 0, result.output
    assert "microsoft.com/devicelogin" in result.output and "ABCD-EFGH" in result.output
    assert "support: signed in (microsoft, device_code); access token valid until" in result.output
    assert "at-device-1" not in result.output and "rt-device-1" not in result.output
    assert oauth_cli.authority.token_requests[-1]["grant_type"] == "urn:ietf:params:oauth:grant-type:device_code"
    assert "msal" in _sealed_apart(oauth_cli, "support", "at-device-1", "rt-device-1")
    # A device code sign-in lapses after 90 days without use (Microsoft's refresh token lifetime).
    listed = {r["name"]: r for r in json.loads(oauth_cli.cli("list", "--json").output)}
    lapses = datetime.fromisoformat(listed["support"]["token_expires_at"])
    assert abs(lapses - (datetime.now(UTC) + timedelta(days=90))) < timedelta(minutes=5)
    health = oauth_cli.cli("tokens").output
    assert "support" in health and " ok " in health and "access until" in health and "0.0/90 days" in health


def test_client_credentials_sign_in_asks_nothing_and_sends_the_sealed_client_secret(oauth_cli: OAuthCli) -> None:
    secret = "app-only-secret-4711"
    _add(oauth_cli, "graph", "shared", "--tenant", "contoso.example", "--flow", "client_credentials",
         "--client-secret-stdin", input=secret + "\n")
    oauth_cli.authority.answer(tokens(access="at-app-1", refresh=None))
    result = oauth_cli.cli("connect", "shared")
    assert result.exit_code == 0, result.output
    assert "signed in (microsoft, client_credentials)" in result.output and "devicelogin" not in result.output
    asked = oauth_cli.authority.token_requests[-1]
    assert asked["grant_type"] == "client_credentials" and asked["client_secret"] == secret
    assert secret not in result.output
    _sealed_apart(oauth_cli, "shared", "at-app-1")
    row = _row(oauth_cli, "shared")
    assert row.refresh_issued_at is None  # app-only: no refresh token, nothing lapses but the secret
    listed = {r["name"]: r for r in json.loads(oauth_cli.cli("list", "--json").output)}
    expires = datetime.fromisoformat(listed["shared"]["token_expires_at"])
    assert abs(expires - (datetime.now(UTC) + timedelta(hours=1))) < timedelta(minutes=5)
    assert "access until" in oauth_cli.cli("tokens").output


def test_a_refused_device_code_sign_in_says_why_and_stores_nothing(oauth_cli: OAuthCli) -> None:
    _add(oauth_cli, "graph", "support", "--tenant", "contoso.example")
    oauth_cli.authority.answer(aad_error("invalid_grant", 65004, "The user declined to consent"))
    result = oauth_cli.cli("connect", "support")
    assert result.exit_code == 1 and "AADSTS65004" in result.output and "declined consent" in result.output
    assert _row(oauth_cli, "support") is None
    assert "not signed in" in oauth_cli.cli("list").output


def _connect_pasting(oauth_cli: OAuthCli, name: str, redirect: Callable[[str], str]) -> tuple[int, str]:
    """Run ``connect --no-browser`` as a child process; paste ``redirect(authorization url)`` back."""

    def paste(child: subprocess.Popen[str], url: str) -> None:
        assert child.stdin is not None
        child.stdin.write(redirect(url) + "\n")
        child.stdin.flush()

    return _connect(oauth_cli, name, ["--no-browser"], paste)


def _connect(oauth_cli: OAuthCli, name: str, options: list[str],
             browser: Callable[[subprocess.Popen[str], str], None]) -> tuple[int, str]:
    """Run ``connect`` as a child process; ``browser(child, authorization url)`` does what the person does."""
    # BROWSER=true: Python's webbrowser "opens" the address with /bin/true, so no real browser starts.
    env = {**os.environ, **oauth_cli.cli.env, "BROWSER": "true"}
    # A new session has no controlling terminal: the hidden prompt reads stdin, as under kubectl exec -i.
    child = subprocess.Popen([sys.executable, "-m", "services.cli", "accounts", "connect", name, *options],
                             stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                             env=env, start_new_session=True)
    printed = []
    try:
        assert child.stdout is not None
        for line in child.stdout:
            printed.append(line)
            if line.startswith("http"):
                browser(child, line.strip())
                break
        printed.append(child.communicate(timeout=60)[0])
    finally:
        if child.poll() is None:
            child.kill()
            child.wait()
    return child.returncode, "".join(printed)


def test_google_without_a_browser_takes_the_pasted_redirect_address_and_stores_the_tokens_sealed(
        oauth_cli: OAuthCli) -> None:
    _add(oauth_cli, "gmail", "gmail", "--client-secret-stdin", input="GOCSPX-secret\n")
    oauth_cli.google.answer(google_tokens(access="ya29.connect-1", refresh="1//rt-connect-1"))
    asked: dict[str, list[str]] = {}

    def redirect(url: str) -> str:
        asked.update(parse_qs(urlparse(url).query))
        return f"http://127.0.0.1:8765/?state={asked['state'][0]}&code=4/0Acode&scope=gmail"

    code, printed = _connect_pasting(oauth_cli, "gmail", redirect)
    assert code == 0, printed
    assert asked["client_id"] == [GOOGLE_CLIENT_ID] and asked["redirect_uri"] == ["http://127.0.0.1:8765/"]
    assert asked["access_type"] == ["offline"] and asked["code_challenge_method"] == ["S256"]
    assert "gmail: signed in (google, installed)" in printed and "ya29.connect-1" not in printed
    exchanged = oauth_cli.google.requests[-1]
    assert exchanged["code"] == ["4/0Acode"] and exchanged["client_secret"] == ["GOCSPX-secret"]
    assert exchanged["code_verifier"] and exchanged["redirect_uri"] == ["http://127.0.0.1:8765/"]
    _sealed_apart(oauth_cli, "gmail", "ya29.connect-1", "1//rt-connect-1")
    listed = {r["name"]: r for r in json.loads(oauth_cli.cli("list", "--json").output)}
    lapses = datetime.fromisoformat(listed["gmail"]["token_expires_at"])
    assert abs(lapses - (datetime.now(UTC) + timedelta(days=180))) < timedelta(minutes=5)
    assert "0.0/180 days" in oauth_cli.cli("tokens").output


def test_google_refuses_an_address_pasted_from_another_sign_in(oauth_cli: OAuthCli) -> None:
    _add(oauth_cli, "gmail", "gmail", "--client-secret-stdin", input="GOCSPX-secret\n")
    code, printed = _connect_pasting(oauth_cli, "gmail", lambda url: "http://127.0.0.1:8765/?state=other&code=4/x")
    assert code == 1 and "another sign-in" in printed
    assert oauth_cli.google.requests == [] and _row(oauth_cli, "gmail") is None


def test_google_with_a_browser_catches_the_redirect_on_the_loopback_address(oauth_cli: OAuthCli) -> None:
    """The browser's last step (Google redirecting to 127.0.0.1) is an HTTP request to the command."""
    _add(oauth_cli, "gmail", "gmail", "--client-secret-stdin", input="GOCSPX-secret\n")
    oauth_cli.google.answer(google_tokens(access="ya29.loopback-1", refresh="1//rt-loopback-1"))
    port = free_port()
    answered: list[str] = []

    def browser(child: subprocess.Popen[str], url: str) -> None:
        query = parse_qs(urlparse(url).query)
        assert query["redirect_uri"] == [f"http://127.0.0.1:{port}/"]
        back = f"http://127.0.0.1:{port}/?state={query['state'][0]}&code=4/0Aloop"
        with urllib.request.urlopen(back, timeout=30) as page:
            answered.append(page.read().decode())

    code, printed = _connect(oauth_cli, "gmail", ["--port", str(port)], browser)
    assert code == 0, printed
    assert "Signed in" in answered[0] and "gmail: signed in (google, installed)" in printed
    assert oauth_cli.google.requests[-1]["code"] == ["4/0Aloop"]
    _sealed_apart(oauth_cli, "gmail", "ya29.loopback-1", "1//rt-loopback-1")


def test_an_inactive_account_is_signed_in_first_and_activating_an_unconnected_one_says_connect(
        oauth_cli: OAuthCli) -> None:
    """So an OAuth account never starts with a failure and a back-off: connect, then activate."""
    _add(oauth_cli, "graph", "support", "--tenant", "contoso.example", "--inactive")
    refused = oauth_cli.cli("activate", "support")
    assert refused.exit_code == 1 and "connect it first (postroom accounts connect support)" in refused.output
    oauth_cli.authority.answer(tokens(access="at-inactive-1", refresh="rt-inactive-1"))
    connected = oauth_cli.cli("connect", "support")
    assert connected.exit_code == 0, connected.output
    assert _row(oauth_cli, "support") is not None
    activated = oauth_cli.cli("activate", "support")
    assert activated.exit_code == 0 and "is active" in activated.output
