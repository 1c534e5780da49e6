"""structlog, configured once per process: JSON when not a TTY, secrets redacted."""

from __future__ import annotations

import logging
import sys
from collections.abc import MutableMapping
from typing import Any

import structlog

_SECRET_WORDS = ("password", "passwd", "secret", "token", "authorization", "xoauth", "cookie", "api_key")


def redact_secrets(_: Any, __: str, event: MutableMapping[str, Any]) -> MutableMapping[str, Any]:
    """Never let a value whose key names a secret reach a log line."""
    for key in list(event):
        lowered = key.lower()
        if any(word in lowered for word in _SECRET_WORDS) and not lowered.endswith(("_id", "_format")):
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
