"""Google's token endpoint at the HTTP level: a google-auth ``Request`` (the transport seam every
google-auth refresh goes through) answering from a queue and recording what was asked.

``authorize`` is the person's part of the web-server flow: it "consents" at once (or declines,
``consent = False``) with a code bound to the request's PKCE challenge and redirect address; the
token endpoint then grants that code only to the matching ``code_verifier`` and redirect address, as
Google's does. Once a code was handed out, a code it did not hand out is refused too."""

from __future__ import annotations

import base64
import hashlib
import json
import secrets
from collections import deque
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs, urlencode


@dataclass
class FakeGoogleResponse:
    status: int
    data: bytes
    headers: dict[str, str] = field(default_factory=lambda: {"content-type": "application/json"})


def google_tokens(access: str = "ya29.g-1", refresh: str | None = None, expires_in: int = 3600) -> dict[str, Any]:
    answer: dict[str, Any] = {"access_token": access, "expires_in": expires_in, "token_type": "Bearer",
                              "scope": "https://www.googleapis.com/auth/gmail.modify"}
    if refresh:
        answer["refresh_token"] = refresh
    return answer


class FakeGoogleToken:
    def __init__(self) -> None:
        self.answers: deque[tuple[int, dict[str, Any]]] = deque()
        self.requests: list[dict[str, list[str]]] = []
        self.consent = True
        self.consent_page = False  # served: a page with an Accept link instead of the redirect at once
        self.authorize_requests: list[dict[str, str]] = []
        self._codes: dict[str, dict[str, str]] = {}  # code -> the authorization request it answers
        self._issued = False
        self.state_back: str | None = None  # the state sent back; None: the request's (another: a stray answer)

    def authorize(self, asked: dict[str, str]) -> str:
        """Where the consent page sends the browser back to (the ``Location`` of its redirect)."""
        self.authorize_requests.append(asked)
        if not self.consent:
            answer = {"error": "access_denied", "state": self.state_back or asked.get("state", "")}
        else:
            code = "4/0A-" + secrets.token_urlsafe(12)
            self._codes[code], self._issued = asked, True
            answer = {"code": code, "state": self.state_back or asked.get("state", ""), "scope": asked.get("scope", "")}
        return f"{asked['redirect_uri']}?{urlencode(answer)}"

    def _code_refused(self, form: dict[str, list[str]]) -> str | None:
        """Why an authorization code is refused (None: granted, or not one this fake checks)."""
        code = (form.get("code") or [""])[0]
        asked = self._codes.pop(code, None)
        if asked is None:
            return "Malformed auth code." if self._issued else None
        verifier = (form.get("code_verifier") or [""])[0]
        challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
        if asked.get("code_challenge_method") != "S256" or challenge != asked.get("code_challenge"):
            return "Invalid code verifier."
        if (form.get("redirect_uri") or [""])[0] != asked.get("redirect_uri"):
            return "Bad Request: redirect_uri_mismatch"
        return None

    def answer(self, body: dict[str, Any], status: int | None = None) -> None:
        self.answers.append((status or (400 if "error" in body else 200), body))

    def __call__(self, url: str, method: str = "GET", body: Any = None, headers: Any = None,
                 timeout: Any = None, **kwargs: Any) -> FakeGoogleResponse:
        text = body.decode() if isinstance(body, bytes) else body or ""
        form = parse_qs(text)
        self.requests.append(form)
        if (form.get("grant_type") or [""])[0] == "authorization_code" and (refused := self._code_refused(form)):
            return FakeGoogleResponse(400, json.dumps({"error": "invalid_grant", "error_description": refused}).encode())
        if not self.answers:
            return FakeGoogleResponse(400, json.dumps({"error": "invalid_request"}).encode())
        status, answer = self.answers.popleft()
        return FakeGoogleResponse(status, json.dumps(answer).encode())
