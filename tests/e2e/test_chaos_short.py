"""The short chaos run (``make chaos`` in small): a few hundred mails while services are SIGKILLed
and the broker restarts once; nothing may be lost or duplicated."""

from __future__ import annotations

from pathlib import Path

import pytest

from shared.settings import environ_flag
from tests.bench.chaos import Options, run_chaos
from tests.bench.servers import RABBIT_BIN


@pytest.mark.e2e
def test_a_few_hundred_mails_survive_killed_services_and_a_broker_restart_with_nothing_lost_or_duplicated(
        tmp_path: Path, postgres_server_url: str) -> None:
    if not (RABBIT_BIN / "rabbitmq-server").exists():
        reason = "Debian's rabbitmq-server is not installed: the chaos run starts a private broker"
        if environ_flag("POSTROOM_REQUIRE_SERVERS"):
            pytest.fail(reason + " (POSTROOM_REQUIRE_SERVERS is set)")
        pytest.skip(reason)
    # A private broker on another port (it is restarted); the shared PostgreSQL, a fresh database.
    opts = Options(mails=240, fault_seconds=30, private_postgres=False, server_url=postgres_server_url, timeout=60,
                    kill_every=(3.0, 6.0))
    text, _, ok = run_chaos(opts, tmp_path)
    print(text)
    assert ok, text
