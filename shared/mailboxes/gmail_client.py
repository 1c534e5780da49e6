"""The Gmail API through google-api-python-client with its shipped discovery document (no discovery
request), the bearer token from the account's token provider (refreshed once on 401 by
google-auth-httplib2), and quota answers (429, 503, 403 rateLimitExceeded / userRateLimitExceeded)
turned into ``RateLimited``."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import google_auth_httplib2
import httplib2
from google.auth.credentials import Credentials
from googleapiclient.discovery import build
from googleapiclient.errors import HttpError

from shared.mailboxes.ratelimit import RateLimited, retry_after_seconds

TokenFetch = Callable[[bool], str]  # force -> access token
_RATE_REASONS = {"rateLimitExceeded", "userRateLimitExceeded", "quotaExceeded"}


class ProviderCredentials(Credentials):  # type: ignore[misc]
    """google-auth credentials backed by our token provider (which stores refreshes sealed)."""

    def __init__(self, fetch: TokenFetch) -> None:
        super().__init__()
        self._fetch = fetch
        self.token = fetch(False)

    def refresh(self, request: Any) -> None:
        self.token = self._fetch(True)

    def before_request(self, request: Any, method: str, url: str, headers: Any) -> None:
        # The provider's current token at every request: a service kept for a whole session picks up
        # a refresh made elsewhere (the provider refreshes ahead of expiry), not only after a 401.
        self.token = self._fetch(False)
        self.apply(headers)


def gmail_service(token: TokenFetch, http: Any = None, timeout: float = 60.0, base_url: str | None = None) -> Any:
    authed = google_auth_httplib2.AuthorizedHttp(ProviderCredentials(token),
                                                 http=http or httplib2.Http(timeout=timeout))
    options = {"api_endpoint": base_url} if base_url else None
    return build("gmail", "v1", http=authed, static_discovery=True, cache_discovery=False, client_options=options)


def rate_limited(exc: HttpError) -> bool:
    status = int(exc.resp.status)
    if status in (429, 503):
        return True
    if status != 403:
        return False
    try:
        errors = json.loads(exc.content.decode()).get("error", {}).get("errors", [])
    except (ValueError, AttributeError):
        return False
    return any(e.get("reason") in _RATE_REASONS for e in errors)


def execute(request: Any) -> Any:
    """Run one API request; a quota answer becomes ``RateLimited`` (the caller backs off)."""
    try:
        return request.execute(num_retries=0)
    except HttpError as exc:
        if rate_limited(exc):
            raise RateLimited(f"Gmail {exc.resp.status}", retry_after_seconds(exc.resp.get("retry-after"))) from None
        raise
