"""The notifier's outage rungs and how long a send may wait, as the settings give them."""

from __future__ import annotations

from datetime import timedelta

import pytest

from services.notifier.settings import NotifierSettings
from shared.broker.topology import Topology
from shared.service import topology_from
from tests.support.pipeline import TOKEN_SECRET


def test_the_outage_rungs_follow_the_retry_ladder_for_the_notifier_only_and_the_cap_repeats() -> None:
    t = Topology(retry_delays=(1.0, 10.0), outage_delays=(5.0, 30.0, 180.0))
    assert [t.retry_queue("notifier", t.outage_step(n)) for n in range(5)] == [
        "notifier.item.changed.wait.5s", "notifier.item.changed.wait.30s", "notifier.item.changed.wait.3m",
        "notifier.item.changed.wait.3m", "notifier.item.changed.wait.3m"]
    assert [t.outage_delay(n) for n in range(5)] == [5.0, 30.0, 180.0, 180.0, 180.0]
    assert t.ladder("notifier") == (1.0, 10.0, 5.0, 30.0, 180.0) and t.ladder("parser") == (1.0, 10.0)
    names = [d.name for d in t.declarations()]
    assert "notifier.item.changed.wait.3m" in names and not any(".wait." in n for n in names if "notifier" not in n)
    wait = next(d for d in t.declarations() if d.name == "notifier.item.changed.wait.30s")
    assert wait.arguments["x-message-ttl"] == 30_000
    assert wait.arguments["x-dead-letter-routing-key"] == "notifier.item.changed"


@pytest.mark.parametrize(("value", "age"), [("86400", timedelta(hours=24)), ("2.5", timedelta(seconds=2.5)),
                                            ("PT3M", timedelta(minutes=3))])
def test_the_max_send_age_is_seconds_or_iso_8601(monkeypatch: pytest.MonkeyPatch, value: str,
                                                 age: timedelta) -> None:
    monkeypatch.setenv("POSTROOM_MAX_SEND_AGE", value)
    monkeypatch.setenv("POSTROOM_OUTAGE_RETRY_DELAYS", "0.2,1")
    settings = NotifierSettings(token_secret=TOKEN_SECRET)
    assert settings.max_send_age == age
    assert topology_from(settings).outage_delays == (0.2, 1.0)


def test_the_defaults_wait_a_day_capped_at_three_minutes() -> None:
    settings = NotifierSettings(token_secret=TOKEN_SECRET)
    assert settings.max_send_age == timedelta(hours=24)
    assert topology_from(settings).outage_delays == (5.0, 30.0, 120.0, 180.0)
