"""The runner counts what it does by stage and outcome, and dead letters by why."""

from __future__ import annotations

from typing import Any

from prometheus_client import REGISTRY

from shared.broker.memory import MemoryBroker
from shared.broker.port import Outgoing
from shared.errors import Reject, RetryLater
from shared.runner import to_outgoing
from tests.support.pipeline import consuming, fetched
from tests.support.waiting import wait_for


def value(name: str, **labels: str) -> float:
    return REGISTRY.get_sample_value(name, labels) or 0.0


def test_dead_letters_retries_and_outcomes_are_counted_by_stage_and_reason() -> None:
    broker = MemoryBroker()
    broker.declare()
    names = [("postroom_dead_letters_total", {"stage": "parser", "reason": r})
             for r in ("rejected", "retries_exhausted", "undecodable")]
    names += [("postroom_retries_total", {"stage": "parser"}),
              ("postroom_messages_handled_total", {"stage": "parser", "outcome": "ok"}),
              ("postroom_handler_duration_seconds_count", {"stage": "parser"})]
    before = [value(n, **labels) for n, labels in names]

    def handler(env: Any) -> list[Any]:
        sid = env.payload.source_id
        if sid == "bad":
            raise Reject("no")
        if sid == "tired":
            raise RetryLater("later")
        return []

    with consuming(broker, "parser", handler, max_retries=1, retry_step=lambda attempt: 0):
        broker.publish([to_outgoing(fetched(s)) for s in ("bad", "tired", "fine")]
                       + [Outgoing("mail.fetched.v1", b"junk", "j", "j")])
        wait_for(lambda: len(broker.messages(broker.topology.dead_letter_queue("parser"))) == 3, timeout=15,
                 what="three dead letters")
    deltas = [value(n, **labels) - b for (n, labels), b in zip(names, before, strict=True)]
    assert deltas == [1, 1, 1, 1, 1, 5]  # bad, tired twice (retried, then dead), fine, junk
