"""The API's composition root: the application and the relay that publishes its messages."""

from __future__ import annotations

import threading
from dataclasses import dataclass

from fastapi import FastAPI

from services.api.app import create_app
from services.api.deps import Context
from services.api.ratelimit import SignInLimiter
from services.api.settings import ApiSettings
from services.app.deadletters import DeadLetters
from services.app.outgoing import Relay
from shared.broker.port import Broker
from shared.db.engine import make_engine, make_sessionmaker
from shared.service import broker_from, topology_from
from shared.store import store_from


@dataclass
class ApiService:
    app: FastAPI
    relay: Relay
    context: Context
    broker: Broker


def build(settings: ApiSettings, broker: Broker | None = None) -> ApiService:
    sessions = make_sessionmaker(make_engine(settings.resolved_database_url))
    ctx = Context(settings, sessions, store_from(settings),
                  SignInLimiter(settings.sign_in_failures, settings.sign_in_window_seconds), threading.Event(),
                  DeadLetters(settings.amqp_url, topology_from(settings)))
    broker = broker or broker_from(settings)
    return ApiService(create_app(ctx), Relay(sessions, broker), ctx, broker)
