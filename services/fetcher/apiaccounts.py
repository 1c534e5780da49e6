"""Graph and Gmail accounts as mailbox sessions of the fetcher's workers (``sync``, ``wait``,
``close``), with the token provider's access token. Throttling answers wait the time the API asked
for inside the session; a refused sign-in raises ``AuthFailed``, which the worker records as the
account's ``auth_failed`` health (the provider does not ask the token endpoint again)."""

from __future__ import annotations

import threading
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy.orm import Session, sessionmaker

from services.fetcher.apicursors import ApiCursors
from services.fetcher.apisync import MailSource, sync_source
from services.fetcher.gmail import GmailConfig, GmailMailSource
from shared.mailboxes.apiconfig import POLL_DEFAULT
from shared.mailboxes.gmail_client import gmail_service
from services.fetcher.graph import GraphConfig, GraphMailSource
from shared.mailboxes.graph_client import GraphClient
from shared.oauth.accounts import AccountAuthenticators
from shared.oauth.health import sweep
from shared.oauth.store import TokenStore
from shared.oauth.tokens import TokenProvider
from shared.mailboxes.ratelimit import RateLimited
from shared.broker.port import Broker
from shared.logging import get_logger
from shared.store import BlobStore

log = get_logger("postroom.fetcher.api")
API_KINDS = ("graph", "gmail")


@dataclass
class ApiSession:
    account: str
    kind: str
    config: dict[str, Any]
    oauth: OAuthParts
    store: BlobStore
    broker: Broker

    def source(self, stop: threading.Event) -> tuple[MailSource, float]:
        """The account's source, built at the first sync and kept for the session (what it resolved
        once, such as a Graph folder path's id, is not asked again every few seconds)."""
        if getattr(self, "_source", None) is None:
            self._source = self._build(stop)
        return self._source

    def _build(self, stop: threading.Event) -> tuple[MailSource, float]:
        fetch = lambda force: self.oauth.provider.token(self.account, force)  # noqa: E731
        cursors = ApiCursors(self.oauth.sessions, self.account)
        if self.kind == "graph":
            graph = GraphConfig.model_validate(self.config)
            return GraphMailSource(GraphClient(fetch, graph.base_url), graph, cursors, stop.wait), graph.poll_interval
        gmail = GmailConfig.model_validate(self.config)
        return (GmailMailSource(gmail_service(fetch, base_url=gmail.base_url), gmail, cursors, stop.wait),
                gmail.poll_interval)

    def sync(self, stop: threading.Event) -> int:
        source, self._interval = self.source(stop)
        try:
            return sync_source(self.account, source, self.store, self.broker, stop)
        except RateLimited as exc:  # the cursor holds what was done: wait as asked, then resume
            log.warning("throttled; resuming later", account=self.account, retry_after=exc.retry_after)
            stop.wait(exc.retry_after)
            return 0

    def wait(self, stop: threading.Event) -> None:
        stop.wait(self.longest_wait)

    def close(self) -> None:
        pass

    @property
    def longest_wait(self) -> float:
        return getattr(self, "_interval", POLL_DEFAULT)  # known once a sync has read the config


@dataclass
class OAuthParts:
    """What the fetcher needs for OAuth accounts, built once by the composition root."""

    sessions: sessionmaker[Session]
    authenticators: AccountAuthenticators
    tokens: TokenStore
    provider: TokenProvider

    def sweep_tokens(self, warn_days: float = 3.0) -> None:
        """Gauges and the "lapses soon" warning for every OAuth account."""
        sweep(self.tokens, self.authenticators.configs(), datetime.now(UTC), warn_days)
