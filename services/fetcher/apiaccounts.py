"""Graph and Gmail accounts in the fetcher's loop: each polled at its interval with the token
provider's access token; throttling, a passing token outage or a failed publish postpone the account,
a refused sign-in (``auth_failed``) parks it until it is reconnected; token health swept regularly."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from sqlalchemy.orm import Session, sessionmaker

from services.fetcher.apicursors import ApiCursors
from services.fetcher.apisync import MailSource, sync_source
from services.fetcher.gmail import GmailConfig, GmailMailSource
from services.fetcher.gmail_client import gmail_service
from services.fetcher.graph import GraphConfig, GraphMailSource
from services.fetcher.graph_client import GraphClient
from services.fetcher.oauth.accounts import AccountAuthenticators
from services.fetcher.oauth.errors import AuthFailed, TokenUnavailable
from services.fetcher.oauth.health import sweep
from services.fetcher.oauth.store import TokenStore
from services.fetcher.oauth.tokens import TokenProvider
from services.fetcher.ratelimit import RateLimited
from shared.broker.port import Broker
from shared.logging import get_logger
from shared.store import BlobStore

log = get_logger("postroom.fetcher.api")
API_KINDS = ("graph", "gmail")
PARKED = 300.0  # an auth_failed account is looked at again (its state only) this often
RETRY = 60.0


@dataclass
class ApiAccounts:
    sessions: sessionmaker[Session]
    store: BlobStore
    broker: Broker
    authenticators: AccountAuthenticators
    provider: TokenProvider
    tokens: TokenStore
    clock: Callable[[], float] = time.monotonic
    _due: dict[str, float] = field(default_factory=dict)

    def source_for(self, name: str, kind: str, address: str, config: dict[str, Any],
                   stop: threading.Event) -> tuple[MailSource, float]:
        fetch = lambda force: self.provider.token(name, force)  # noqa: E731
        cursors = ApiCursors(self.sessions, name)
        if kind == "graph":
            graph = GraphConfig.model_validate({"mailbox": address, **config})
            return GraphMailSource(GraphClient(fetch, graph.base_url), graph, cursors, stop.wait), graph.poll_interval
        gmail = GmailConfig.model_validate(config)
        return GmailMailSource(gmail_service(fetch), gmail, cursors, stop.wait), gmail.poll_interval

    def poll(self, accounts: list[tuple[str, str, str, dict[str, Any]]], stop: threading.Event) -> None:
        for name, kind, address, config in accounts:
            if stop.is_set() or self._due.get(name, 0.0) > self.clock():
                continue
            self._due[name] = self.clock() + self._poll_one(name, kind, address, config, stop)

    def _poll_one(self, name: str, kind: str, address: str, config: dict[str, Any], stop: threading.Event) -> float:
        try:
            source, interval = self.source_for(name, kind, address, config, stop)
            count = sync_source(name, source, self.store, self.broker, stop)
        except AuthFailed:
            return PARKED  # the alert was raised when the refusal happened; nothing to retry
        except RateLimited as exc:
            log.warning("throttled; resuming later", account=name, retry_after=exc.retry_after)
            return exc.retry_after
        except TokenUnavailable as exc:
            log.warning("no access token now; retrying later", account=name, reason=str(exc))
            return RETRY
        except Exception as exc:  # the API, the store or the broker: the cursor holds, try again later
            log.warning("fetch failed; retrying later", account=name, error=f"{type(exc).__name__}: {exc}"[:500])
            return RETRY
        if count:
            log.info("fetched", account=name, count=count)
        return interval

    def sweep_tokens(self, warn_days: float = 3.0) -> None:
        sweep(self.tokens, self.authenticators.configs(), datetime.now(UTC), warn_days)
