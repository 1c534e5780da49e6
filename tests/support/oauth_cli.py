"""``postroom accounts ...`` against OAuth accounts: the fake Microsoft authority over HTTPS (its
throw-away CA trusted through ``REQUESTS_CA_BUNDLE``), Google's token endpoint over HTTP, and sign-ins
made the way ``connect`` makes them, for tests that need an account already signed in."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from shared.oauth.accounts import AccountAuthenticators
from shared.oauth.store import TokenStore
from shared.secrets import SecretBox
from tests.support.accountcli import AccountsCli
from tests.support.fake_authority import CLIENT_ID, TENANT, FakeAuthority, tokens
from tests.support.fake_google import FakeGoogleToken, google_tokens
from tests.support.fetching import apply_account
from tests.support.oauth_servers import serve_authority, serve_google_token, stop
from tests.support.tls import make_pki

GOOGLE_CLIENT_ID = "cid.apps.googleusercontent.com"


@dataclass
class OAuthCli:
    cli: AccountsCli
    sessions: Any
    box: SecretBox
    authority: FakeAuthority
    google: FakeGoogleToken
    google_token_uri: str

    @property
    def microsoft(self) -> dict[str, Any]:
        """The ``oauth:`` block of a Microsoft account signing in at the fake authority."""
        return {"provider": "microsoft", "client_id": CLIENT_ID, "tenant": TENANT, "authority_host": self.authority.host}

    @property
    def google_oauth(self) -> dict[str, Any]:
        return {"provider": "google", "client_id": GOOGLE_CLIENT_ID, "token_uri": self.google_token_uri,
                "auth_uri": self.google_token_uri.rsplit("/", 1)[0] + "/auth"}

    def add(self, name: str, kind: str, oauth: dict[str, Any], **extra: Any) -> None:
        apply_account(self.sessions, self.box, name=name, kind=kind, address=f"{name}@contoso.example",
                      oauth=oauth, **extra)

    def sign_in_microsoft(self, name: str, access: str, expires_in: int = 3600) -> None:
        """A device code sign-in, as ``connect`` makes it."""
        auth = AccountAuthenticators(self.sessions, self.box)(name)
        flow, cache = auth.start_device_flow()
        self.authority.answer(tokens(access=access, refresh=f"rt-{name}", user=f"{name}@contoso.example",
                                     expires_in=expires_in))
        self._store(name, "microsoft", "device_code", auth.finish_device_flow(flow, cache))

    def sign_in_google(self, name: str, access: str, expires_in: int = 3600) -> None:
        """The authorization code exchange, as ``connect`` makes it."""
        auth = AccountAuthenticators(self.sessions, self.box)(name)
        self.google.answer(google_tokens(access=access, refresh=f"1//rt-{name}", expires_in=expires_in))
        self._store(name, "google", "installed", auth.exchange("4/code", "http://127.0.0.1:8765/", "verifier"))

    def _store(self, name: str, provider: str, flow: str, grant: Any) -> None:
        TokenStore(self.sessions, self.box).connected(name, provider, flow, grant.cache, grant.expires_at,
                                                      datetime.now(UTC))


@pytest.fixture
def oauth_cli(database_url: str, secret_key: str, sessions: Any, secret_box: SecretBox, tmp_path: Path,
              monkeypatch: pytest.MonkeyPatch) -> Iterator[OAuthCli]:
    pki = make_pki(tmp_path)
    # requests (msal's transport) reads these per request: the environment's bundle would not know our CA.
    for variable in ("REQUESTS_CA_BUNDLE", "CURL_CA_BUNDLE"):
        monkeypatch.setenv(variable, str(pki.ca_pem))
    authority_server, authority = serve_authority(pki)
    google = FakeGoogleToken()
    google_server, token_uri = serve_google_token(google)
    cli = AccountsCli(database_url, secret_key)
    cli.env |= {"REQUESTS_CA_BUNDLE": str(pki.ca_pem), "CURL_CA_BUNDLE": str(pki.ca_pem)}
    yield OAuthCli(cli, sessions, secret_box, authority, google, token_uri)
    stop(authority_server, google_server)
