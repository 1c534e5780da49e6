"""``make up`` as a newcomer runs it: the five services and the SMTP sink start, the first admin can
sign in with the password from its 0600 file, the demo mail becomes an item seen through the API,
each service gets its own health port, and Ctrl-C stops everything cleanly."""

from __future__ import annotations

import os
import shutil
import signal
import stat
import subprocess
import sys
from pathlib import Path

import httpx

from tests.support.servers import free_port
from tests.support.waiting import wait_for

ROOT = Path(__file__).resolve().parents[2]


def test_make_up_runs_everything_signs_in_the_first_admin_and_stops_cleanly_on_ctrl_c(
        tmp_path: Path, amqp_url: str, namespace: str) -> None:
    var, api_port, health = tmp_path / "var", free_port(), free_port()
    env = {**os.environ, "AMQP_URL": amqp_url, "POSTROOM_BROKER_NAMESPACE": namespace, "POSTROOM_VAR_DIR": str(var),
           "POSTROOM_API_PORT": str(api_port), "POSTROOM_SINK_PORT": str(free_port()),
           "POSTROOM_HEALTH_PORT": str(health), "POSTROOM_POLL_INTERVAL": "0.2"}
    env.pop("DATABASE_URL", None)  # the embedded default: SQLite under var/
    # The demo account as make up applies it: its drop folder follows POSTROOM_VAR_DIR.
    up = subprocess.Popen([sys.executable, "-m", "services.cli", "up"], env=env,
                          cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        api = httpx.Client(base_url=f"http://127.0.0.1:{api_port}/api/v1", timeout=5)
        wait_for(lambda: _answers(api), timeout=60, what="the API started by make up")
        password_file = var / "admin-password"
        assert stat.S_IMODE(password_file.stat().st_mode) == 0o600
        signed_in = api.post("/session", json={"email": "admin@postroom.local",
                                               "password": password_file.read_text().strip()})
        assert signed_in.status_code == 200, signed_in.text
        api.headers["Authorization"] = f"Bearer {signed_in.json()['token']}"
        shutil.copy(ROOT / "tests/data/printer.eml", var / "inbox" / "printer.eml")
        items = wait_for(lambda: api.get("/items").json()["items"], timeout=30, what="the demo mail's item")
        assert items[0]["number"] == 1
        for port in range(health, health + 5):  # fetcher, parser, itemwriter, notifier, api
            assert wait_for(lambda p=port: _ready(p), timeout=30, what=f"health on :{port}")  # type: ignore[misc]
    finally:
        up.send_signal(signal.SIGINT)
        output, _ = up.communicate(timeout=60)
    assert up.returncode == 0, output
    assert "stopping ..." in output and "Error" not in output
    assert password_file.read_text().strip() not in output, "the password is never printed"


def _answers(client: httpx.Client) -> bool:
    try:
        return client.get("/openapi.json").status_code == 200
    except httpx.TransportError:
        return False


def _ready(port: int) -> bool:
    try:
        return httpx.get(f"http://127.0.0.1:{port}/ready", timeout=2).status_code == 200
    except httpx.TransportError:
        return False
