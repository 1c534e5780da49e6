"""Microsoft identity platform through msal: device code sign-in (no browser on the server needed),
the authorization code flow with PKCE (the person picks the account and consents in a browser, then
the browser comes back to a redirect address: the CLI's loopback or the console), client credentials
for app-only access to shared mailboxes, and silent refresh from the cache."""

from __future__ import annotations

import json
import warnings
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import msal
import msal.exceptions

from shared.oauth.config import OAuthConfig
from shared.oauth.errors import AuthFailed, TokenUnavailable, microsoft_failure
from shared.oauth.grant import Grant

_PUBLIC_HOSTS = ("https://login.microsoftonline.com", "https://login.microsoftonline.us",
                 "https://login.chinacloudapi.cn")


def _refresh_secrets(serialized: str) -> set[str]:
    data = json.loads(serialized or "{}")
    return {entry.get("secret", "") for entry in (data.get("RefreshToken") or {}).values()}


class MicrosoftAuth:
    def __init__(self, account: str, config: OAuthConfig, kind: str, username: str,
                 client_secret: str | None = None, http_client: Any = None,
                 clock: Callable[[], datetime] = lambda: datetime.now(UTC)) -> None:
        self.account, self.config, self.username, self._secret = account, config, username, client_secret
        self.scopes = config.scopes_for(kind)
        self._http, self._clock = http_client, clock

    def _app(self, cache: msal.SerializableTokenCache) -> msal.ClientApplication:
        cfg = self.config
        kwargs: dict[str, Any] = {"authority": f"{cfg.authority_host.rstrip('/')}/{cfg.tenant}",
                                  "token_cache": cache, "http_client": self._http}
        if cfg.authority_host.rstrip("/") not in _PUBLIC_HOSTS:
            kwargs["instance_discovery"] = False  # a private or test authority is not in Microsoft's list
        try:
            if cfg.resolved_flow == "client_credentials":
                if not self._secret:
                    raise AuthFailed("client credentials need the application's client_secret in the account")
                return msal.ConfidentialClientApplication(cfg.client_id, client_credential=self._secret, **kwargs)
            return msal.PublicClientApplication(cfg.client_id, **kwargs)
        except ValueError as exc:  # msal checks the authority's OpenID configuration here
            raise TokenUnavailable(f"the Microsoft authority did not answer as expected: {exc}") from None

    def _grant(self, result: dict[str, Any] | None, cache: msal.SerializableTokenCache, before: set[str]) -> Grant:
        if result is None:
            raise AuthFailed(f"no refresh token for {self.username} in the stored sign-in; run `postroom "
                             f"accounts connect {self.account}`")
        if "access_token" not in result:
            raise microsoft_failure(self.account, result)
        changed = cache.has_state_changed  # read first: serialize() clears it
        serialized = cache.serialize()
        expires = self._clock() + timedelta(seconds=int(result.get("expires_in", 3600)))
        return Grant(result["access_token"], expires, {"msal": serialized}, changed,
                     _refresh_secrets(serialized) != before)

    @staticmethod
    def _cache(stored: dict[str, Any]) -> tuple[msal.SerializableTokenCache, set[str]]:
        cache = msal.SerializableTokenCache()
        if stored.get("msal"):
            cache.deserialize(stored["msal"])
        return cache, _refresh_secrets(stored.get("msal", ""))

    def refresh(self, stored: dict[str, Any], force: bool) -> Grant:
        try:
            return self._refresh(stored, force)
        except msal.exceptions.MsalServiceError as exc:  # a 5xx msal does not read as an OAuth error
            raise TokenUnavailable(f"Microsoft sign-in service: {exc.args[0] if exc.args else exc}") from None

    def _refresh(self, stored: dict[str, Any], force: bool) -> Grant:
        cache, before = self._cache(stored)
        app = self._app(cache)
        if self.config.resolved_flow == "client_credentials":
            # msal answers from its cache until 5 minutes before expiry, then asks for a new token.
            return self._grant(app.acquire_token_for_client(self.scopes), cache, before)
        accounts = app.get_accounts(username=self.username) or app.get_accounts()
        if not accounts:
            return self._grant(None, cache, before)
        result = app.acquire_token_silent_with_error(self.scopes, accounts[0], force_refresh=force)
        return self._grant(result, cache, before)

    def start_device_flow(self) -> tuple[dict[str, Any], msal.SerializableTokenCache]:
        """The flow (its ``message`` tells the user where to enter which code)."""
        cache = msal.SerializableTokenCache()
        flow = self._app(cache).initiate_device_flow(scopes=self.scopes)
        if "user_code" not in flow:
            raise microsoft_failure(self.account, flow)
        return flow, cache

    def finish_device_flow(self, flow: dict[str, Any], cache: msal.SerializableTokenCache) -> Grant:
        """Wait (msal polls at the server's interval) until the user signed in, declined or the code expired."""
        return self._grant(self._app(cache).acquire_token_by_device_flow(flow), cache, set())

    def start_auth_code_flow(self, redirect_uri: str) -> tuple[dict[str, Any], msal.SerializableTokenCache]:
        """The flow (its ``auth_uri`` is where the browser goes); msal adds PKCE (S256), state and nonce.
        Keep the flow where only this sign-in can read it: it holds the code verifier."""
        cache = msal.SerializableTokenCache()
        app = self._app(cache)
        with warnings.catch_warnings():
            # msal recommends response_mode=form_post; the code comes back in the query instead, so it
            # can be pasted from a headless browser, and so the console's SameSite session cookie is
            # sent with the redirect (a cross-site POST would drop it). PKCE binds the code either way.
            warnings.filterwarnings("ignore", message="response_mode='form_post' is recommended")
            flow = app.initiate_auth_code_flow(self.scopes, redirect_uri=redirect_uri,
                                               login_hint=self.username or None, prompt="select_account")
        return flow, cache

    def finish_auth_code_flow(self, flow: dict[str, Any], cache: msal.SerializableTokenCache,
                              response: dict[str, str]) -> Grant:
        """Exchange the code the browser came back with (``response``: the redirect's query) for tokens;
        a response of another sign-in (its state differs) or a refusal is an ``AuthFailed``."""
        if response.get("error"):
            raise microsoft_failure(self.account, dict(response))
        try:
            result = self._app(cache).acquire_token_by_auth_code_flow(flow, response)
        except ValueError as exc:  # msal: state mismatch, or a response that is no auth response
            raise AuthFailed(f"the browser came back from another sign-in ({exc.args[0].split(':')[0]})") from None
        return self._grant(result, cache, set())

    def sign_in_app_only(self) -> Grant:
        cache = msal.SerializableTokenCache()
        return self._grant(self._app(cache).acquire_token_for_client(self.scopes), cache, set())
