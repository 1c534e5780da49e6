"""The fetcher's composition root."""

from __future__ import annotations

from services.fetcher.loop import FetcherService
from services.fetcher.settings import FetcherSettings
from shared.broker.port import Broker
from shared.db.engine import make_engine, make_sessionmaker
from shared.health import HealthState
from shared.service import broker_from
from shared.store import FilesystemBlobStore


def build(settings: FetcherSettings, health: HealthState, broker: Broker | None = None) -> FetcherService:
    return FetcherService(broker=broker or broker_from(settings),
                          store=FilesystemBlobStore(settings.resolved_store_dir),
                          sessions=make_sessionmaker(make_engine(settings.resolved_database_url)),
                          settings=settings, health=health)
