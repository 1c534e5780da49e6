"""Which real servers the tests use: the ones named by ``AMQP_URL`` / ``DATABASE_URL``, else the
machine's defaults, else a testcontainers container where a Docker engine runs. Where none answers,
the tests that need it skip, unless ``POSTROOM_REQUIRE_SERVERS`` is set (CI): then they fail."""

from __future__ import annotations

import os
import socket
from urllib.parse import urlparse

import pytest

DEFAULT_AMQP_URL = "amqp://guest:guest@127.0.0.1:5672//"
DEFAULT_DATABASE_URL = "postgresql://postgres@127.0.0.1:5432/postgres"


def _answers(url: str, default_port: int) -> bool:
    parsed = urlparse(url)
    try:
        socket.create_connection((parsed.hostname or "127.0.0.1", parsed.port or default_port), timeout=2).close()
        return True
    except OSError:
        return False


def free_port() -> int:
    """A TCP port nobody listens on right now (aiosmtpd's Controller cannot bind port 0)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def port_answers(port: int, host: str = "127.0.0.1") -> bool:
    try:
        socket.create_connection((host, port), timeout=0.5).close()
        return True
    except OSError:
        return False


def _docker_available() -> bool:
    try:
        import docker

        docker.from_env(timeout=3).ping()
        return True
    except Exception:
        return False


def unavailable(what: str, url: str) -> None:
    message = f"{what} does not answer at {url} and no Docker engine can start one"
    if os.environ.get("POSTROOM_REQUIRE_SERVERS"):
        pytest.fail(message + " (POSTROOM_REQUIRE_SERVERS is set: a missing server is an error)")
    pytest.skip(message)


def resolve_amqp_url() -> tuple[str, object | None]:
    url = os.environ.get("AMQP_URL", DEFAULT_AMQP_URL)
    if _answers(url, 5672):
        return url, None
    if _docker_available():
        from testcontainers.rabbitmq import RabbitMqContainer

        container = RabbitMqContainer("rabbitmq:3.13-alpine").start()
        host, port = container.get_container_host_ip(), container.get_exposed_port(5672)
        return f"amqp://guest:guest@{host}:{port}//", container
    unavailable("RabbitMQ", url)
    raise AssertionError("unreachable")


def resolve_postgres_url() -> tuple[str, object | None]:
    url = os.environ.get("DATABASE_URL", DEFAULT_DATABASE_URL)
    if url.startswith("postgres") and _answers(url, 5432):
        return url, None
    if _docker_available():
        from testcontainers.postgres import PostgresContainer

        container = PostgresContainer("postgres:16-alpine", driver=None).start()
        return container.get_connection_url(), container
    unavailable("PostgreSQL", url)
    raise AssertionError("unreachable")
