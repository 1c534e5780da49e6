"""``postroom accounts connect NAME`` run for real against the fake Microsoft authority (HTTPS) and
Google token endpoint: device code, client credentials, Google with ``--no-browser`` and the
redirect address pasted back (a child process, reading what it prints). The sign-in is stored
sealed, and ``accounts list`` / ``accounts tokens`` then show when it lapses."""

from __future__ import annotations

import json
import os
import ssl
import subprocess
import sys
import urllib.error
import urllib.request
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import parse_qs, parse_qsl, urlparse

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


def _browser_through_authority(answered: list[str]) -> Callable[[subprocess.Popen[str], str], None]:
    """What the person's browser does: open the authority's sign-in page (it consents, or declines,
    and redirects), then follow the redirect to the command's loopback address."""

    def browser(child: subprocess.Popen[str], url: str) -> None:
        trusted = ssl.create_default_context(cafile=os.environ["REQUESTS_CA_BUNDLE"])  # the fake's CA
        with urllib.request.urlopen(url, timeout=30, context=trusted) as page:  # follows the 302
            answered.append(page.read().decode())

    return browser


def test_microsoft_auth_code_signs_in_through_the_browser_with_pkce_and_stores_the_tokens_sealed(
        oauth_cli: OAuthCli) -> None:
    """For tenants that block device code: the person picks the account and consents in a browser."""
    _add(oauth_cli, "graph", "support", "--tenant", "contoso.example", "--flow", "auth_code")
    oauth_cli.authority.answer(tokens(access="at-code-1", refresh="rt-code-1"))
    port, answered = free_port(), list[str]()
    code, printed = _connect(oauth_cli, "support", ["--port", str(port)], _browser_through_authority(answered))
    assert code == 0, printed
    assert "Signed in" in answered[0] and "support: signed in (microsoft, auth_code)" in printed
    assert "at-code-1" not in printed and "rt-code-1" not in printed and "devicelogin" not in printed
    asked = oauth_cli.authority.authorize_requests[-1]
    assert asked["redirect_uri"] == f"http://127.0.0.1:{port}/" and asked["code_challenge_method"] == "S256"
    assert asked["login_hint"] == "support@contoso.example" and "Mail.ReadWrite" in asked["scope"]
    exchanged = oauth_cli.authority.token_requests[-1]
    assert exchanged["grant_type"] == "authorization_code" and exchanged["code_verifier"]
    assert "msal" in _sealed_apart(oauth_cli, "support", "at-code-1", "rt-code-1")
    health = oauth_cli.cli("tokens").output
    assert "support" in health and " ok " in health and "0.0/90 days" in health


def test_microsoft_auth_code_without_a_browser_takes_the_pasted_address(oauth_cli: OAuthCli) -> None:
    """Headless: the address the browser ended on is pasted back; the code is still bound to the
    verifier only this command holds."""
    _add(oauth_cli, "graph", "support", "--tenant", "contoso.example", "--flow", "auth_code")
    oauth_cli.authority.answer(tokens(access="at-paste-1", refresh="rt-paste-1"))
    trusted = ssl.create_default_context(cafile=os.environ["REQUESTS_CA_BUNDLE"])

    class Stop(urllib.request.HTTPRedirectHandler):  # a browser that cannot reach 127.0.0.1:8765
        def redirect_request(self, req: Any, fp: Any, code: int, msg: str, headers: Any, newurl: str) -> None:
            raise urllib.error.HTTPError(newurl, code, msg, headers, fp)

    def redirect(url: str) -> str:
        opener = urllib.request.build_opener(Stop, urllib.request.HTTPSHandler(context=trusted))
        try:
            opener.open(url, timeout=30)
        except urllib.error.HTTPError as ended:
            return str(ended.filename)
        raise AssertionError("the authority did not redirect")

    code, printed = _connect_pasting(oauth_cli, "support", redirect)
    assert code == 0, printed
    assert "support: signed in (microsoft, auth_code)" in printed
    assert oauth_cli.authority.token_requests[-1]["redirect_uri"] == "http://127.0.0.1:8765/"
    _sealed_apart(oauth_cli, "support", "at-paste-1", "rt-paste-1")


def test_microsoft_auth_code_declined_or_from_another_sign_in_stores_nothing(oauth_cli: OAuthCli) -> None:
    _add(oauth_cli, "graph", "support", "--tenant", "contoso.example", "--flow", "auth_code")
    oauth_cli.authority.consent = False
    code, printed = _connect(oauth_cli, "support", ["--port", str(free_port())], _browser_through_authority([]))
    assert code == 1 and "access_denied" in printed
    oauth_cli.authority.consent = True
    code, printed = _connect_pasting(oauth_cli, "support", lambda url: "http://127.0.0.1:8765/?state=x&code=M.C-1")
    assert code == 1 and "another sign-in" in printed
    assert [r["grant_type"] for r in oauth_cli.authority.token_requests] == [] and _row(oauth_cli, "support") is None


def test_a_code_is_granted_only_to_the_verifier_of_its_own_sign_in(oauth_cli: OAuthCli) -> None:
    """PKCE at the fake, as at Microsoft: a stolen code with another verifier gets nothing."""
    oauth_cli.add("support", "graph", {**oauth_cli.microsoft, "flow": "auth_code"})
    from shared.oauth.accounts import AccountAuthenticators
    from shared.oauth.errors import AuthFailed
    from shared.oauth.microsoft import MicrosoftAuth

    auth = AccountAuthenticators(oauth_cli.sessions, oauth_cli.box)("support")
    assert isinstance(auth, MicrosoftAuth)
    flow, cache = auth.start_auth_code_flow("http://127.0.0.1:8765/")
    thief_flow, _ = auth.start_auth_code_flow("http://127.0.0.1:8765/")
    location = oauth_cli.authority.get(flow["auth_uri"]).headers["Location"]
    response = dict(parse_qsl(urlparse(location).query))
    stolen = {**thief_flow, "state": response["state"]}  # the code, but not the verifier it was bound to
    oauth_cli.authority.answer(tokens(access="at-stolen", refresh="rt-stolen"))
    try:
        auth.finish_auth_code_flow(stolen, cache, response)
    except AuthFailed as refused:
        assert "Code_Verifier does not match" in str(refused)
    else:
        raise AssertionError("a code was granted to another sign-in's verifier")
