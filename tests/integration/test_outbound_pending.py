"""The notifier's pending-send gauges, from the outbox a real send leaves: a mail the SMTP server defers
stays pending and ages; once it goes, the account's gauges return to 0."""

from __future__ import annotations

import threading
from datetime import timedelta
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from prometheus_client import REGISTRY

from services.notifier.bootstrap import build
from services.notifier.pending import PendingGauges
from services.notifier.settings import NotifierSettings
from shared.db.models import utcnow
from shared.errors import RetryLater
from shared.health import HealthState
from tests.integration.test_notifier import RefusingHandler, event, handler_for, item_id, outbox  # noqa: F401
from tests.support.pipeline import TOKEN_SECRET
from tests.support.servers import free_port
from tests.support.smtp import RecordingHandler
from tests.support.waiting import wait_for


def _sample(name: str, account: str) -> float | None:
    return REGISTRY.get_sample_value(name, {"account": account})


def _serve(handler: RecordingHandler) -> tuple[Controller, int]:
    port = free_port()
    controller = Controller(handler, hostname="127.0.0.1", port=port)
    controller.start()
    return controller, port


def test_a_deferred_send_is_pending_and_ages_then_its_gauges_return_to_zero_once_it_went(sessions: Any,
                                                                                       item_id: int) -> None:
    gauges = PendingGauges(sessions)
    envelope = event(item_id)
    controller, port = _serve(RefusingHandler("451 4.3.0 try later"))
    try:
        with pytest.raises(RetryLater):
            handler_for(sessions, port)(envelope)
    finally:
        controller.stop()
    [row] = outbox(sessions)
    assert row.status == "pending"

    count, age = gauges.publish(now=utcnow() + timedelta(minutes=45))["support"]
    assert count == 1 and 45 * 60 - 5 < age < 45 * 60 + 60
    assert _sample("postroom_outbound_pending", "support") == 1
    assert _sample("postroom_outbound_oldest_pending_age_seconds", "support") == age

    controller, port = _serve(RecordingHandler())  # the retry finds the server accepting
    try:
        handler_for(sessions, port)(envelope.next_attempt())
    finally:
        controller.stop()
    assert [r.status for r in outbox(sessions)] == ["sent"]
    assert gauges.publish() == {"support": (0, 0.0)}
    assert _sample("postroom_outbound_pending", "support") == 0
    assert _sample("postroom_outbound_oldest_pending_age_seconds", "support") == 0


def test_the_notifier_service_publishes_the_gauges_while_it_runs(database_url: str, sessions: Any, item_id: int,
                                                                 memory_broker: Any) -> None:
    """The notifier's composition root runs the gauges beside its consume loop, from the start."""
    controller, port = _serve(RefusingHandler("451 4.3.0 try later"))
    try:
        with pytest.raises(RetryLater):
            handler_for(sessions, port)(event(item_id, account="support"))
    finally:
        controller.stop()
    settings = NotifierSettings(database_url=database_url, token_secret=TOKEN_SECRET, smtp_host="127.0.0.1",
                                smtp_port=port)
    service = build(settings, HealthState(), memory_broker)
    memory_broker.declare()
    stop = threading.Event()
    runner = threading.Thread(target=service.run, args=(stop,), daemon=True)
    before = _sample("postroom_outbound_pending", "support")
    runner.start()
    try:
        wait_for(lambda: _sample("postroom_outbound_pending", "support") == 1, timeout=10,
                 what=f"the pending gauge set (was {before})")
        assert _sample("postroom_outbound_oldest_pending_age_seconds", "support") is not None
    finally:
        stop.set()
        runner.join(timeout=10)
