"""Google sign-in through google-auth: refresh with the stored refresh token, and the authorization
code exchange of ``postroom accounts connect`` (PKCE, offline access)."""

from __future__ import annotations

import base64
import hashlib
import json
import secrets
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlencode

from google.auth import exceptions as gexc
from google.auth.transport import Request
from google.oauth2.credentials import Credentials

from shared.oauth.config import OAuthConfig
from shared.oauth.errors import AuthFailed, TokenUnavailable, google_failure
from shared.oauth.grant import Grant

REFRESH_MARGIN = timedelta(minutes=5)  # refresh this long before the access token expires


def default_request() -> Request:
    from google.auth.transport.requests import Request as RequestsRequest

    return RequestsRequest()


class GoogleAuth:
    def __init__(self, account: str, config: OAuthConfig, kind: str, client_secret: str | None,
                 request: Request | None = None, clock: Callable[[], datetime] = lambda: datetime.now(UTC)) -> None:
        self.account, self.config, self.scopes = account, config, config.scopes_for(kind)
        self._secret, self._request, self._clock = client_secret, request, clock

    @property
    def request(self) -> Request:
        if self._request is None:
            self._request = default_request()
        return self._request

    def refresh(self, stored: dict[str, Any], force: bool) -> Grant:
        data = stored.get("google") or {}
        if not data.get("refresh_token"):
            raise AuthFailed(f"no refresh token stored; run `postroom accounts connect {self.account}`")
        expiry = datetime.fromisoformat(data["expiry"]) if data.get("expiry") else None
        if data.get("token") and expiry and not force and expiry - self._clock() > REFRESH_MARGIN:
            return Grant(data["token"], expiry, stored, False, False)
        creds = Credentials(None, refresh_token=data["refresh_token"], token_uri=self.config.token_uri,
                            client_id=self.config.client_id, client_secret=self._secret, scopes=self.scopes)
        try:
            creds.refresh(self.request)
        except gexc.RefreshError as exc:
            details = exc.args[1] if len(exc.args) > 1 and isinstance(exc.args[1], dict) else {}
            error = str(details.get("error") or str(exc.args[0] if exc.args else "").split(":")[0])
            raise google_failure(self.account, error, bool(getattr(exc, "retryable", False))) from None
        except gexc.TransportError as exc:
            raise TokenUnavailable(f"Google token endpoint unreachable: {type(exc).__name__}") from None
        return self._grant(creds.token, creds.expiry, creds.refresh_token or data["refresh_token"],
                           data["refresh_token"])

    def _grant(self, token: str, expiry: datetime | None, refresh_token: str, old: str | None) -> Grant:
        # google-auth keeps expiry as naive UTC.
        expires = expiry.replace(tzinfo=UTC) if expiry and expiry.tzinfo is None else expiry
        cache = {"google": {"token": token, "refresh_token": refresh_token,
                            "expiry": expires.isoformat() if expires else None}}
        return Grant(token, expires, cache, True, refresh_token != old)

    # The sign-in: an authorization URL with PKCE (RFC 7636), then the code exchanged for tokens.

    def authorization_url(self, redirect_uri: str) -> tuple[str, str, str]:
        """(url, state, code_verifier); ``prompt=consent`` so Google hands out a refresh token again."""
        state, verifier = secrets.token_urlsafe(24), secrets.token_urlsafe(48)
        challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
        query = {"client_id": self.config.client_id, "redirect_uri": redirect_uri, "response_type": "code",
                 "scope": " ".join(self.scopes), "access_type": "offline", "prompt": "consent",
                 "state": state, "code_challenge": challenge, "code_challenge_method": "S256"}
        return f"{self.config.auth_uri}?{urlencode(query)}", state, verifier

    def exchange(self, code: str, redirect_uri: str, verifier: str) -> Grant:
        body = urlencode({"grant_type": "authorization_code", "code": code, "redirect_uri": redirect_uri,
                          "client_id": self.config.client_id, "client_secret": self._secret or "",
                          "code_verifier": verifier}).encode()
        response = self.request(url=self.config.token_uri, method="POST", body=body,
                                headers={"Content-Type": "application/x-www-form-urlencoded"})
        data = json.loads(response.data or b"{}")
        if response.status != 200 or "access_token" not in data:
            raise google_failure(self.account, str(data.get("error", f"HTTP {response.status}")))
        if not data.get("refresh_token"):
            raise AuthFailed("Google sent no refresh token: remove the app's access at "
                             "myaccount.google.com/permissions and connect again")
        expiry = self._clock() + timedelta(seconds=int(data.get("expires_in", 3600)))
        return self._grant(data["access_token"], expiry, data["refresh_token"], None)
