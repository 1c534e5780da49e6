"""Google's token endpoint at the HTTP level: a google-auth ``Request`` (the transport seam every
google-auth refresh goes through) answering from a queue and recording what was asked."""

from __future__ import annotations

import json
from collections import deque
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs


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

    def answer(self, body: dict[str, Any], status: int | None = None) -> None:
        self.answers.append((status or (400 if "error" in body else 200), body))

    def __call__(self, url: str, method: str = "GET", body: Any = None, headers: Any = None,
                 timeout: Any = None, **kwargs: Any) -> FakeGoogleResponse:
        text = body.decode() if isinstance(body, bytes) else body or ""
        self.requests.append(parse_qs(text))
        if not self.answers:
            return FakeGoogleResponse(400, json.dumps({"error": "invalid_request"}).encode())
        status, answer = self.answers.popleft()
        return FakeGoogleResponse(status, json.dumps(answer).encode())
