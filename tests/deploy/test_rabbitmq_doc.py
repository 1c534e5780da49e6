"""deploy/RABBITMQ.md describes the topology the code declares, not an older one."""

from __future__ import annotations

from shared.broker.topology import CONSUMERS, Topology
from shared.settings import CommonSettings
from tests.deploy.conftest import DEPLOY

DOC = (DEPLOY / "RABBITMQ.md").read_text()


def test_the_queue_table_names_every_queue_and_exchange_the_services_declare():
    """Work queues, retry ladders, DLQs and both exchanges, with the default settings."""
    defaults = CommonSettings.model_fields
    topology = Topology(retry_delays=defaults["retry_delays"].default,
                        delivery_limit=defaults["delivery_limit"].default)
    for name in CONSUMERS:
        last = topology.retry_queue(name, len(topology.retry_delays) - 1).rpartition(".retry.")[2]
        for expected in (topology.queue(name), topology.dead_letter_queue(name),
                         f"`{topology.retry_queue(name, 0)}` … `.retry.{last}`"):
            assert f"`{expected}`" in DOC or expected in DOC, expected
    assert f"`{topology.exchange}` (topic" in DOC
    assert f"`{topology.dead_letter_exchange}` (direct" in DOC


def test_the_documented_defaults_are_the_settings_defaults():
    """Delivery limit and retry ladder as CommonSettings has them."""
    defaults = CommonSettings.model_fields
    delays = defaults["retry_delays"].default
    assert f"`POSTROOM_DELIVERY_LIMIT={defaults['delivery_limit'].default}`" in DOC
    assert f"`POSTROOM_RETRY_DELAYS={','.join(f'{d:g}' for d in delays)}`" in DOC
    assert f"`x-delivery-limit` {defaults['delivery_limit'].default}," in DOC
    assert ", ".join(f"{d:g} s" for d in delays) in DOC
