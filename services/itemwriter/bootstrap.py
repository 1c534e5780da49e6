"""The itemwriter's composition root."""

from __future__ import annotations

from services.itemwriter.handlers import make_handler
from services.itemwriter.settings import ItemwriterSettings
from shared.broker.port import Broker
from shared.db.engine import make_engine, make_sessionmaker
from shared.health import HealthState
from shared.service import ConsumerService, broker_from


def build(settings: ItemwriterSettings, health: HealthState, broker: Broker | None = None) -> ConsumerService:
    sessions = make_sessionmaker(make_engine(settings.resolved_database_url))
    return ConsumerService("itemwriter", broker or broker_from(settings), make_handler(sessions), settings,
                           health)
