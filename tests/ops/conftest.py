"""A real broker topology in a throw-away namespace, and the environment the CLI reads it from."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from shared.broker.kombu_broker import KombuBroker
from shared.broker.topology import Topology
from tests.support.broker_admin import TEST_RETRY_DELAYS

MAX_RETRIES = 1


@dataclass
class Ops:
    broker: KombuBroker
    topology: Topology
    amqp_url: str
    env: dict[str, str]
    store_dir: Path


@pytest.fixture
def ops(amqp_url: str, namespace: str, tmp_path: Path) -> Iterator[Ops]:
    topology = Topology(namespace=namespace, retry_delays=TEST_RETRY_DELAYS)
    broker = KombuBroker(amqp_url, topology, prefetch=4)
    broker.declare()
    store = tmp_path / "store"
    env = {"AMQP_URL": amqp_url, "POSTROOM_BROKER_NAMESPACE": namespace, "POSTROOM_STORE_DIR": str(store),
           "POSTROOM_RETRY_DELAYS": ",".join(map(str, TEST_RETRY_DELAYS)), "POSTROOM_VAR_DIR": str(tmp_path / "var")}
    yield Ops(broker, topology, amqp_url, env, store)
    broker.close()
