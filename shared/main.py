"""The body of every service's ``__main__``: settings, logging, build, run until SIGTERM."""

from __future__ import annotations

import sys
import threading
from collections.abc import Callable
from typing import Any

from shared.logging import configure_logging, get_logger
from shared.service import declare_when_reachable, install_stop_signals, start_health
from shared.settings import CommonSettings, SettingsError


def run_service(name: str, settings_cls: type[CommonSettings], build: Callable[..., Any]) -> int:
    try:
        settings = settings_cls()
    except SettingsError as exc:
        print(f"postroom {name}: refusing to start: {exc}", file=sys.stderr)
        return 2
    configure_logging(settings.log_level, settings.log_format)
    log = get_logger(f"postroom.{name}")
    stop = threading.Event()
    install_stop_signals(stop)
    health = start_health(settings)
    service = build(settings, health)
    if declare_when_reachable(service.broker, stop, health):
        log.info("started", service=name)
        service.run(stop)
    service.broker.close()
    log.info("stopped", service=name)
    return 0
