"""structlog, configured once per process: JSON when not a TTY, secrets redacted."""

from __future__ import annotations

import functools
import logging
import sys
from collections.abc import MutableMapping
from typing import Any

import structlog

_SECRET_WORDS = ("password", "passwd", "secret", "token", "authorization", "xoauth", "cookie", "api_key")


@functools.lru_cache(maxsize=4096)
def _names_a_secret(key: str) -> bool:
    # Keys are a small set written in the code: each is judged once, not on every line (bounded in
    # case one day they are not).
    lowered = key.lower()
    return any(word in lowered for word in _SECRET_WORDS) and not lowered.endswith(("_id", "_format"))


def redact_secrets(_: Any, __: str, event: MutableMapping[str, Any]) -> MutableMapping[str, Any]:
    """Never let a value whose key names a secret reach a log line."""
    for key in list(event):
        if _names_a_secret(key):
            event[key] = "***"
    return event


def configure_logging(level: str = "INFO", fmt: str = "auto", stream: Any = None) -> None:
    stream = stream or sys.stderr
    json_output = fmt == "json" or (fmt == "auto" and not stream.isatty())
    renderer: Any = structlog.processors.JSONRenderer() if json_output else structlog.dev.ConsoleRenderer()
    structlog.configure(
        processors=[
            structlog.contextvars.merge_contextvars,
            structlog.processors.add_log_level,
            structlog.processors.TimeStamper(fmt="iso", utc=True),
            redact_secrets,
            structlog.processors.format_exc_info,
            renderer,
        ],
        wrapper_class=structlog.make_filtering_bound_logger(logging.getLevelNamesMapping()[level.upper()]),
        logger_factory=structlog.PrintLoggerFactory(stream),
        cache_logger_on_first_use=False,
    )
    # Libraries (kombu, amqp, sqlalchemy) log through the standard library: keep them quiet
    # and on the same stream.
    logging.basicConfig(stream=stream, level=max(logging.WARNING, logging.getLevelNamesMapping()[level.upper()]))


def get_logger(name: str) -> Any:
    return structlog.get_logger(name)
