"""The short chaos run (``make chaos`` in small): a few hundred mails in a Dovecot mailbox while
services are SIGKILLed, the broker restarts once and the fetcher's IMAP session is cut once;
nothing may be lost or duplicated."""

from __future__ import annotations

from pathlib import Path

import pytest

from shared.settings import environ_flag
from tests.bench.chaos import Options, run_chaos
from tests.bench.servers import RABBIT_BIN
from tests.support.dovecot import DOVECOT


@pytest.mark.e2e
def test_a_few_hundred_mails_survive_killed_services_a_broker_restart_and_a_cut_imap_session(
        tmp_path: Path, postgres_server_url: str) -> None:
    for missing, reason in ((not (RABBIT_BIN / "rabbitmq-server").exists(),
                             "Debian's rabbitmq-server is not installed: the chaos run starts a private broker"),
                            (not Path(DOVECOT).exists(),
                             "Dovecot is not installed (apt-get install dovecot-imapd): the mails arrive in it")):
        if missing and environ_flag("POSTROOM_REQUIRE_SERVERS"):
            pytest.fail(reason + " (POSTROOM_REQUIRE_SERVERS is set)")
        if missing:
            pytest.skip(reason)
    # A private broker on another port (it is restarted); the shared PostgreSQL, a fresh database.
    opts = Options(mails=240, fault_seconds=30, private_postgres=False, server_url=postgres_server_url, timeout=60,
                    kill_every=(3.0, 6.0), connection_drops=1)
    text, data, ok = run_chaos(opts, tmp_path)
    print(text)
    assert ok, text
    assert any("mailbox connection dropped" in what for _, what in data["events"]), text
    resent = data["resends"]
    assert resent["after_a_kill"] <= resent["notifier_kills"] and resent["database"] == resent["unexplained"] == 0
    assert (f"re-sends: {resent['after_a_kill']} after {resent['notifier_kills']} notifier kills (at most one each), "
            "0 through the database restart") in text
