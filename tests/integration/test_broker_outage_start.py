"""A service started while the broker is away waits for it (backoff, one log line per attempt, no
traceback, live but not ready) and starts consuming once it is there: pods do not crash-loop through
a broker outage."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path
from urllib.parse import urlparse

from tests.support.servers import free_port
from tests.support.tcpforward import TcpForwarder
from tests.support.waiting import wait_for
from tests.support.pipeline import TOKEN_SECRET
from tests.support.servicestart import health_status, log_lines

ROOT = Path(__file__).resolve().parents[2]


def _attempts(log: Path) -> list[dict]:
    return [line for line in log_lines(log) if line.get("event") == "broker unreachable; trying again"]


def test_a_service_started_without_a_broker_keeps_trying_then_consumes_once_it_appears(amqp_url, namespace,
                                                                                         tmp_path):
    """The parser pointed at a closed port: after several attempts it still runs, live and not ready,
    with one warning per attempt and no traceback; a broker on that port, and it declares and consumes;
    SIGTERM then stops it cleanly."""
    broker_port, health_port = free_port(), free_port()
    real = urlparse(amqp_url)
    log = tmp_path / "parser.log"
    env = {**os.environ, "POSTROOM_TOKEN_SECRET": TOKEN_SECRET, "AMQP_URL": real._replace(netloc=f"{real.username}:{real.password}@127.0.0.1:{broker_port}").geturl(),
           "POSTROOM_BROKER_NAMESPACE": namespace, "POSTROOM_HEALTH_PORT": str(health_port),
           "POSTROOM_LOG_FORMAT": "json", "POSTROOM_VAR_DIR": str(tmp_path / "var")}
    with log.open("wb") as out:
        service = subprocess.Popen([sys.executable, "-m", "services.parser"], cwd=ROOT, env=env, stdout=out,
                                   stderr=subprocess.STDOUT)
    forwarder = None
    try:
        wait_for(lambda: len(_attempts(log)) >= 3, timeout=20, what="three attempts to reach the broker")
        assert service.poll() is None, log.read_text()
        assert health_status(health_port, "/live") == 200
        assert health_status(health_port, "/ready") == 503
        attempts = _attempts(log)
        assert [a["attempt"] for a in attempts] == list(range(1, len(attempts) + 1))
        assert attempts[1]["retry_in_s"] > 0 and "Traceback" not in log.read_text()

        forwarder = TcpForwarder(broker_port, (real.hostname or "127.0.0.1", real.port or 5672))
        wait_for(lambda: health_status(health_port, "/ready") == 200, timeout=30, interval=0.2, what="the parser ready")
        events = [line.get("event") for line in log_lines(log)]
        assert "broker reachable" in events and "started" in events

        service.send_signal(signal.SIGTERM)
        assert service.wait(timeout=20) == 0
    finally:
        if service.poll() is None:
            service.kill()
            service.wait(timeout=10)
        if forwarder is not None:
            forwarder.close()
    assert "Traceback" not in log.read_text(), log.read_text()


def test_a_service_stopped_while_it_waits_for_the_broker_exits_cleanly(amqp_url, namespace, tmp_path):
    """SIGTERM during the wait ends the service at once with status 0, not a traceback."""
    env = {**os.environ, "POSTROOM_TOKEN_SECRET": TOKEN_SECRET, "AMQP_URL": f"amqp://guest:guest@127.0.0.1:{free_port()}//",
           "POSTROOM_BROKER_NAMESPACE": namespace, "POSTROOM_LOG_FORMAT": "json",
           "POSTROOM_VAR_DIR": str(tmp_path / "var")}
    log = tmp_path / "parser.log"
    with log.open("wb") as out:
        service = subprocess.Popen([sys.executable, "-m", "services.parser"], cwd=ROOT, env=env, stdout=out,
                                   stderr=subprocess.STDOUT)
    try:
        wait_for(lambda: _attempts(log), timeout=20, what="a first attempt")
        service.send_signal(signal.SIGTERM)
        assert service.wait(timeout=10) == 0
    finally:
        if service.poll() is None:
            service.kill()
            service.wait(timeout=10)
    assert "Traceback" not in log.read_text(), log.read_text()
