"""Running the API: uvicorn in front, the relay beside it, health and metrics on the health port like
every service (ready once the broker's topology is declared)."""

from __future__ import annotations

import threading

import uvicorn

from services.api.bootstrap import ApiService, build
from services.api.settings import ApiSettings
from shared.broker.port import Broker
from shared.logging import configure_logging, get_logger
from shared.health import HealthState
from shared.main import schema_ready
from shared.service import install_stop_signals, start_health

log = get_logger("postroom.api")


def start_relay(service: ApiService, settings: ApiSettings, stop: threading.Event,
                health: HealthState | None = None) -> threading.Thread:
    thread = threading.Thread(target=service.relay.run, args=(stop, service.context.wake, settings.relay_interval,
                                                              health.tick if health else lambda: None),
                              name="relay", daemon=True)
    thread.start()
    return thread


def server_for(service: ApiService, settings: ApiSettings) -> uvicorn.Server:
    config = uvicorn.Config(service.app, host=settings.api_host, port=settings.api_port, log_config=None,
                            access_log=False, server_header=False, proxy_headers=False)
    return uvicorn.Server(config)


def serve(settings: ApiSettings, broker: Broker | None = None) -> int:
    configure_logging(settings.log_level, settings.log_format)
    health = start_health(settings)
    stop = threading.Event()
    install_stop_signals(stop)  # while it waits for the database; uvicorn handles them once it runs
    if not schema_ready(settings, stop, health, log):
        return 0 if stop.is_set() else 2
    service = build(settings, broker)
    service.broker.declare()
    start_relay(service, settings, stop, health)
    health.set_ready(True)
    log.info("started", service="api", url=settings.url)
    server_for(service, settings).run()
    stop.set()
    service.broker.close()
    log.info("stopped", service="api")
    return 0
