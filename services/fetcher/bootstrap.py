"""The fetcher's composition root."""

from __future__ import annotations

from services.fetcher.apiaccounts import ApiAccounts
from services.fetcher.loop import FetcherService
from services.fetcher.oauth.accounts import AccountAuthenticators
from services.fetcher.oauth.store import TokenStore
from services.fetcher.oauth.tokens import TokenProvider
from services.fetcher.settings import FetcherSettings
from shared.broker.port import Broker
from shared.db.engine import make_engine, make_sessionmaker
from shared.health import HealthState
from shared.secrets import SecretBox
from shared.service import broker_from
from shared.store import FilesystemBlobStore


def build(settings: FetcherSettings, health: HealthState, broker: Broker | None = None) -> FetcherService:
    broker = broker or broker_from(settings)
    store = FilesystemBlobStore(settings.resolved_store_dir)
    sessions = make_sessionmaker(make_engine(settings.resolved_database_url))
    box = SecretBox(settings.resolved_secret_keys)
    authenticators, tokens = AccountAuthenticators(sessions, box), TokenStore(sessions, box)
    api = ApiAccounts(sessions, store, broker, authenticators, TokenProvider(tokens, authenticators), tokens)
    return FetcherService(broker=broker, store=store, sessions=sessions, settings=settings, health=health, api=api)
