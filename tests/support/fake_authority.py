"""A Microsoft identity platform at the HTTP level, in-process: msal's ``http_client`` hook answered
with the OpenID configuration, the device code endpoint and the token endpoint. Token answers are
queued by the test; every request is recorded (to prove what was, and was not, asked).

The authorization endpoint is the person's part of the authorization code flow: it "consents" at
once (or declines, ``consent = False``), redirecting to the ``redirect_uri`` with a code bound to
the request's PKCE challenge, redirect address and nonce. The token endpoint then grants that code
only to the matching ``code_verifier`` and redirect address, and puts the nonce in the id token, as
Microsoft's does."""

from __future__ import annotations

import base64
import hashlib
import json
import secrets
import time
from collections import deque
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlparse

HOST = "https://login.test.example"
TENANT = "contoso.example"
CLIENT_ID = "11111111-2222-3333-4444-555555555555"


def _b64(data: dict[str, Any]) -> str:
    return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()


@dataclass
class FakeResponse:
    status_code: int
    text: str
    headers: dict[str, str] = field(default_factory=dict)

    def raise_for_status(self) -> None:
        if self.status_code >= 400:
            raise RuntimeError(f"HTTP {self.status_code}")


def tokens(access: str = "at-1", refresh: str | None = "rt-1", user: str = "support@contoso.example",
           expires_in: int = 3600) -> dict[str, Any]:
    issuer = f"{HOST}/{TENANT}/v2.0"
    claims = {"iss": issuer, "aud": CLIENT_ID, "exp": int(time.time()) + 3600, "iat": int(time.time()),
              "preferred_username": user, "oid": "oid-1", "tid": "tid-1", "sub": "sub-1"}
    answer: dict[str, Any] = {"token_type": "Bearer", "access_token": access, "expires_in": expires_in,
                              "id_token": f"{_b64({'alg': 'none'})}.{_b64(claims)}.",
                              "client_info": _b64({"uid": "oid-1", "utid": "tid-1"})}
    if refresh:
        answer["refresh_token"] = refresh
    else:  # app-only (client credentials): no user, so no id token and no client info
        del answer["id_token"], answer["client_info"]
    return answer


def _with_nonce(id_token: str, nonce: str) -> str:
    header, claims, signature = id_token.split(".")
    decoded = json.loads(base64.urlsafe_b64decode(claims + "=" * (-len(claims) % 4)))
    return f"{header}.{_b64({**decoded, 'nonce': nonce})}.{signature}"


def aad_error(error: str, code: int, description: str = "") -> dict[str, Any]:
    return {"error": error, "error_codes": [code],
            "error_description": f"AADSTS{code}: {description or 'refused'}\r\nTrace ID: 0000\r\nTimestamp: now"}


class FakeAuthority:
    """``host``: where its endpoints are (``serve_authority`` serves it over HTTPS); the issuer stays
    ``HOST``, so the id tokens of ``tokens()`` fit either way."""

    def __init__(self, host: str = HOST) -> None:
        self.host = host
        self.answers: deque[tuple[int, dict[str, Any]]] = deque()
        self.token_requests: list[dict[str, Any]] = []
        self.device_scope = ""
        self.consent = True
        self.consent_page = False  # served: a page with an Accept link instead of the redirect at once
        self.authorize_requests: list[dict[str, str]] = []
        self._codes: dict[str, dict[str, str]] = {}  # code -> the authorization request it answers

    def answer(self, body: dict[str, Any], status: int | None = None) -> None:
        self.answers.append((status or (400 if "error" in body else 200), body))

    def get(self, url: str, params: Any = None, headers: Any = None, **kwargs: Any) -> FakeResponse:
        if url.endswith("/.well-known/openid-configuration"):
            base = f"{self.host}/{TENANT}"
            return FakeResponse(200, json.dumps({
                "issuer": f"{HOST}/{TENANT}/v2.0", "authorization_endpoint": f"{base}/oauth2/v2.0/authorize",
                "token_endpoint": f"{base}/oauth2/v2.0/token",
                "device_authorization_endpoint": f"{base}/oauth2/v2.0/devicecode"}))
        if urlparse(url).path.endswith("/oauth2/v2.0/authorize"):
            return self._authorize(dict(parse_qsl(urlparse(url).query)))
        return FakeResponse(404, "{}")

    def _authorize(self, asked: dict[str, str]) -> FakeResponse:
        self.authorize_requests.append(asked)
        if not self.consent:
            answer = {"error": "access_denied", "error_description": "AADSTS65004: The user declined to consent",
                      "state": asked.get("state", "")}
        else:
            code = "M.C-" + secrets.token_urlsafe(12)
            self._codes[code] = asked
            answer = {"code": code, "state": asked.get("state", ""), "client_info": _b64({"uid": "oid-1",
                                                                                         "utid": "tid-1"})}
        return FakeResponse(302, "", {"Location": f"{asked['redirect_uri']}?{urlencode(answer)}"})

    def _code_refused(self, data: dict[str, Any]) -> dict[str, Any] | None:
        """Why the token endpoint refuses an authorization code (None: granted), and the nonce to sign."""
        asked = self._codes.pop(str(data.get("code")), None)
        if asked is None:
            return aad_error("invalid_grant", 54005, "OAuth2 Authorization code was already redeemed or is unknown")
        verifier = str(data.get("code_verifier", ""))
        challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
        if asked.get("code_challenge_method") != "S256" or challenge != asked.get("code_challenge"):
            return aad_error("invalid_grant", 501481, "The Code_Verifier does not match the code_challenge")
        if data.get("redirect_uri") != asked.get("redirect_uri"):
            return aad_error("invalid_grant", 50148, "The redirect_uri does not match the authorization request")
        data["_nonce"] = asked.get("nonce", "")
        return None

    def post(self, url: str, params: Any = None, data: Any = None, headers: Any = None, **kwargs: Any) -> FakeResponse:
        if url.endswith("/devicecode"):
            self.device_scope = str((data or {}).get("scope", ""))
            return FakeResponse(200, json.dumps({
                "device_code": "dc-1", "user_code": "ABCD-EFGH", "verification_uri": "https://microsoft.com/devicelogin",
                "expires_in": 900, "interval": 0,
                "message": "To sign in, use a web browser to open https://microsoft.com/devicelogin and enter ABCD-EFGH"}))
        if url.endswith("/token"):
            data = dict(data or {})
            self.token_requests.append(dict(data))
            if data.get("grant_type") == "authorization_code" and (refused := self._code_refused(data)):
                return FakeResponse(400, json.dumps(refused))
            if not self.answers:
                return FakeResponse(500, json.dumps({"error": "server_error", "error_description": "nothing queued"}))
            status, body = self.answers.popleft()
            if "access_token" in body:  # granted what was asked, as the real endpoint does
                body = {**body, "scope": " ".join(s for s in str((data or {}).get("scope") or self.device_scope).split()
                                                  if s not in ("openid", "profile", "offline_access"))}
            if data.get("_nonce") and "id_token" in body:
                body["id_token"] = _with_nonce(body["id_token"], data["_nonce"])
            return FakeResponse(status, json.dumps(body))
        return FakeResponse(404, "{}")
