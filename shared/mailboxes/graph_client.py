"""Microsoft Graph over HTTP: the bearer token from the account's token provider, one forced refresh
on 401, and throttling (429/503 with Retry-After) turned into a back-off the loop honours."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import requests

from shared.mailboxes.ratelimit import RateLimited, retry_after_seconds

TokenFetch = Callable[[bool], str]  # force -> access token


class GraphError(Exception):
    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(f"Graph answered {status} {code}: {message}")
        self.status, self.code = status, code


class GraphClient:
    def __init__(self, token: TokenFetch, base_url: str = "https://graph.microsoft.com/v1.0",
                 session: requests.Session | None = None, timeout: float = 60.0) -> None:
        self._token, self.base_url, self._timeout = token, base_url.rstrip("/"), timeout
        self._session = session or requests.Session()

    def _url(self, path: str) -> str:
        return path if path.startswith(("http://", "https://")) else f"{self.base_url}{path}"

    def request(self, method: str, path: str, **kwargs: Any) -> requests.Response:
        response = self._send(method, path, False, **kwargs)
        if response.status_code == 401:  # revoked or expired early: one fresh token, then give up
            response = self._send(method, path, True, **kwargs)
        if response.status_code in (429, 503, 504):
            raise RateLimited(f"Graph {response.status_code}", retry_after_seconds(response.headers.get("Retry-After")))
        if response.status_code >= 400:
            raise _error(response)
        return response

    def _send(self, method: str, path: str, force: bool, **kwargs: Any) -> requests.Response:
        headers = {"Authorization": f"Bearer {self._token(force)}",
                   # Ids that survive a move between folders (the source id must not change).
                   "Prefer": 'IdType="ImmutableId"', **kwargs.pop("headers", {})}
        return self._session.request(method, self._url(path), headers=headers, timeout=self._timeout, **kwargs)

    def json(self, method: str, path: str, **kwargs: Any) -> dict[str, Any]:
        return self.request(method, path, **kwargs).json()


def _error(response: requests.Response) -> GraphError:
    try:
        err = response.json().get("error", {})
    except ValueError:
        err = {}
    return GraphError(response.status_code, str(err.get("code", "")), str(err.get("message", ""))[:300])
