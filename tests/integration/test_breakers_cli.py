"""Loop breakers seen and lifted by people (``postroom breakers``, the application layer), and their
metric read back from the database when the notifier starts."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any
from unittest import mock

import pytest
from click.testing import CliRunner
from prometheus_client import REGISTRY

from services.app.actors import Actor
from services.app.breakers import list_breakers, reset
from services.app.errors import Forbidden
from shared import metrics
from shared.db.engine import transaction
from shared.db.models import LoopBreaker, utcnow
from tests.integration.test_loop_governor import new_item
from tests.integration.test_notifier import event, handler_for, item_id, outbox  # noqa: F401 (fixture)
from tests.support.smtp import RecordingHandler
from tests.support.pipeline import TOKEN_SECRET


def trip_for_robot(sessions: Any, handle: Any) -> None:
    """Thirteen mails from a robot: ten replies, three cap refusals, its breaker opens."""
    for n in range(13):
        handle(event(new_item(sessions, 100 + n), sender="robot@example.org"))


def breaker(account: str, scope: str, key: str, minutes: int = 60) -> LoopBreaker:
    return LoopBreaker(account=account, scope=scope, key=key, opened_at=utcnow(), reason="test", trips=1,
                       open_until=utcnow() + timedelta(minutes=minutes))


def test_a_breaker_is_listed_and_reset_by_the_cli(
        sessions: Any, item_id: int, smtp_server: tuple[RecordingHandler, int], database_url: str,
        monkeypatch: pytest.MonkeyPatch) -> None:
    from services.cli.main import cli

    server, port = smtp_server
    handle = handler_for(sessions, port)
    trip_for_robot(sessions, handle)
    with transaction(sessions) as s:
        s.add(breaker("support", "item", str(item_id)))
    monkeypatch.setenv("DATABASE_URL", database_url)
    runner = CliRunner()
    listed = runner.invoke(cli, ["breakers", "list"])
    assert listed.exit_code == 0, listed.output
    assert "robot@example.org" in listed.output and "3 cap hits in 10 min" in listed.output
    assert "incident #7" in listed.output and "2 open loop breaker(s)" in listed.output
    rows = json.loads(runner.invoke(cli, ["breakers", "list", "--json"]).output)
    assert {(b["scope"], b["target"], b["open"]) for b in rows} == {("recipient", "robot@example.org", True),
                                                                    ("item", "incident #7", True)}

    later = utcnow() + timedelta(minutes=11)  # the robot's caps have room again; its breaker is still open
    with mock.patch.object(handle.governor, "clock", lambda: later):
        handle(event(new_item(sessions, 200), sender="robot@example.org"))
        assert len(server.received) == 10 and outbox(sessions)[-1].reason.startswith("loop breaker open for robot")
        done = runner.invoke(cli, ["breakers", "reset", "support", "--recipient", "Robot@Example.org"])
        assert done.exit_code == 0 and "loop breaker for robot@example.org reset" in done.output
        handle(event(new_item(sessions, 201), sender="robot@example.org"))
        assert len(server.received) == 11 and server.received[-1].rcpt_tos == ["robot@example.org"]

    assert runner.invoke(cli, ["breakers", "reset", "support", "--item", "7"]).exit_code == 0
    assert "no loop breakers" in runner.invoke(cli, ["breakers", "list"]).output
    missing = runner.invoke(cli, ["breakers", "reset", "support"])
    assert missing.exit_code == 1 and "no loop breaker for the whole account in account 'support'" in missing.output


def test_an_agent_may_see_the_breakers_but_only_an_admin_resets_one(sessions: Any, item_id: int) -> None:
    agent = Actor(user_id=2, email="agent@example.test", name="Agent", role="agent")
    with transaction(sessions) as s:
        s.add(breaker("support", "account", ""))
    with transaction(sessions) as s:
        assert [b["target"] for b in list_breakers(s, agent)] == ["the whole account"]
        with pytest.raises(Forbidden, match="admin role"):
            reset(s, agent, "support")


def test_after_a_restart_the_breaker_metric_shows_the_open_breakers(
        sessions: Any, item_id: int, smtp_server: tuple[RecordingHandler, int], database_url: str,
        memory_broker: Any, tmp_path: Any) -> None:
    from services.notifier.bootstrap import build
    from services.notifier.settings import NotifierSettings
    from shared.health import HealthState

    _, port = smtp_server
    trip_for_robot(sessions, handler_for(sessions, port))
    with transaction(sessions) as s:
        s.add_all([breaker("support", "item", str(item_id)), breaker("sales", "account", ""),
                   breaker("sales", "recipient", "gone@example.com", minutes=-1)])  # expired: not open
    metrics.LOOP_BREAKERS_OPEN.clear()  # a new process: nothing published yet
    metrics.LOOP_BREAKER_OPEN.clear()
    build(NotifierSettings(database_url=database_url, store_dir=tmp_path, smtp_host="127.0.0.1", smtp_port=port, token_secret=TOKEN_SECRET),
          HealthState(), memory_broker)

    def gauge(account: str, scope: str) -> float | None:
        return REGISTRY.get_sample_value("postroom_loop_breakers_open", {"account": account, "scope": scope})

    assert [gauge("support", s) for s in ("recipient", "item", "account")] == [1, 1, 0]
    assert [gauge("sales", s) for s in ("recipient", "item", "account")] == [0, 0, 1]
    assert REGISTRY.get_sample_value("postroom_loop_breaker_open", {"account": "sales"}) == 1
    assert REGISTRY.get_sample_value("postroom_loop_breaker_open", {"account": "support"}) == 0
