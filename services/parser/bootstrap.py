"""The parser's composition root: the only place that knows its concrete classes."""

from __future__ import annotations

from shared.broker.port import Broker
from shared.health import HealthState
from shared.service import ConsumerService, broker_from
from shared.store import store_from
from services.parser.handlers import make_handler
from services.parser.settings import ParserSettings


def build(settings: ParserSettings, health: HealthState, broker: Broker | None = None) -> ConsumerService:
    store = store_from(settings)
    tokens = settings.item_tokens()
    handler = make_handler(store, tokens, settings.limits)
    return ConsumerService("parser", broker or broker_from(settings), handler, settings, health)
