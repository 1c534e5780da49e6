"""The body of every service's ``__main__``: settings, logging, build, run until SIGTERM."""

from __future__ import annotations

import sys
import threading
from collections.abc import Callable
from typing import Any, TypeVar

from pydantic import ValidationError

from shared.health import HealthState
from shared.logging import configure_logging, get_logger
from shared.service import declare_when_reachable, install_stop_signals, start_health
from shared.settings import CommonSettings, SettingsError, settings_problem

# The services that open the database: each waits for it and checks its schema before it starts.
DATABASE_SERVICES = frozenset({"fetcher", "itemwriter", "notifier", "api"})
S = TypeVar("S", bound=CommonSettings)


def load_settings(name: str, settings_cls: type[S]) -> S | None:
    """The service's settings; None after one line on stderr naming the variable and the fix (a
    value that does not parse, a database URL that is none, a missing local database, a malformed
    secret key), never a traceback and never the value."""
    try:
        settings = settings_cls()
    except SettingsError as exc:
        problem: str | None = str(exc)
    except ValidationError as exc:
        problem = settings_problem(settings_cls, exc)
    else:
        problem = (settings.database_problem() or settings.secret_key_problem()) if name in DATABASE_SERVICES else None
    if problem:
        print(f"postroom {name}: refusing to start: {problem}", file=sys.stderr)
        return None
    return settings


def run_service(name: str, settings_cls: type[CommonSettings], build: Callable[..., Any]) -> int:
    settings = load_settings(name, settings_cls)
    if settings is None:
        return 2
    configure_logging(settings.log_level, settings.log_format)
    log = get_logger(f"postroom.{name}")
    stop = threading.Event()
    install_stop_signals(stop)
    health = start_health(settings)
    if name in DATABASE_SERVICES and not schema_ready(settings, stop, health, log):
        return 0 if stop.is_set() else 2
    service = build(settings, health)
    if declare_when_reachable(service.broker, stop, health):
        log.info("started", service=name)
        service.run(stop)
    service.broker.close()
    log.info("stopped", service=name)
    return 0


def schema_ready(settings: CommonSettings, stop: threading.Event, health: HealthState, log: Any) -> bool:
    """Wait for the database, then check its schema; False if stopped meanwhile or the schema is
    not this release's (logged: the service must not start)."""
    from shared.db.schema import SchemaMismatch, wait_for_schema

    try:
        revision = wait_for_schema(settings.resolved_database_url, stop, health)
    except SchemaMismatch as exc:
        log.error("refusing to start", reason=str(exc))
        return False
    if revision is not None:
        log.info("database schema checked", revision=revision)
    return revision is not None
