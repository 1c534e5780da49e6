"""``postroom run SERVICE``: one service in this process, or all four over the in-memory broker."""

from __future__ import annotations

import sys
import threading
from importlib import import_module

import click

SERVICES = ("fetcher", "parser", "itemwriter", "notifier")


def _settings_cls(name: str) -> type:
    module = import_module(f"services.{name}.settings")
    # The class the module defines, not one it imports (CommonSettings, TokenSecretSettings).
    return next(v for k, v in vars(module).items()
                if k.endswith("Settings") and getattr(v, "__module__", None) == module.__name__)


@click.command("run")
@click.argument("service", type=click.Choice([*SERVICES, "all"]))
def run_command(service: str) -> None:
    """Run SERVICE until SIGTERM; 'all' runs the four in one process over the in-memory broker
    (no durability across restarts, no independent scaling: for a laptop without RabbitMQ)."""
    from shared.main import run_service

    if service != "all":
        sys.exit(run_service(service, _settings_cls(service), import_module(f"services.{service}.bootstrap").build))
    sys.exit(run_all_in_memory())


def run_all_in_memory() -> int:
    from shared.broker.memory import MemoryBroker
    from shared.logging import configure_logging, get_logger
    from shared.service import install_stop_signals, start_health, topology_from
    from shared.settings import SettingsError

    try:
        settings = {name: _settings_cls(name)() for name in SERVICES}
    except SettingsError as exc:
        print(f"postroom all: refusing to start: {exc}", file=sys.stderr)
        return 2
    first = settings["fetcher"]
    configure_logging(first.log_level, first.log_format)
    log = get_logger("postroom.all")
    broker = MemoryBroker(topology_from(first))
    broker.declare()
    stop = threading.Event()
    install_stop_signals(stop)
    health = start_health(first)
    threads = []
    for name in SERVICES:
        service = import_module(f"services.{name}.bootstrap").build(settings[name], health, broker)
        thread = threading.Thread(target=service.run, args=(stop,), name=name, daemon=True)
        thread.start()
        threads.append(thread)
    server = _start_api(broker, stop)
    log.info("running all four services and the API in one process over the in-memory broker")
    while not stop.wait(0.5):
        if not all(t.is_alive() for t in threads):
            log.error("a service thread died; stopping")
            stop.set()
            server.should_exit = True
            return 1
    server.should_exit = True
    for thread in threads:
        thread.join(timeout=30)
    return 0


def _start_api(broker: object, stop: threading.Event):  # type: ignore[no-untyped-def]
    """The API in a thread, its relay publishing to the same in-memory broker."""
    from services.api.bootstrap import build
    from services.api.server import server_for, start_relay
    from services.api.settings import ApiSettings

    settings = ApiSettings()
    service = build(settings, broker)  # type: ignore[arg-type]
    start_relay(service, settings, stop)
    server = server_for(service, settings)
    threading.Thread(target=server.run, name="api", daemon=True).start()
    return server
