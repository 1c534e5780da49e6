"""tests/setup/prepare.sh, where it cannot fix the machine itself, stops at once and says how."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.support.servers import free_port

ROOT = Path(__file__).resolve().parents[2]
PREPARE = ROOT / "tests" / "setup" / "prepare.sh"


def as_unprivileged(command: list[str]) -> list[str]:
    if os.getuid() != 0:
        return command
    if shutil.which("runuser") is None:
        pytest.skip("running as root and runuser is not installed")
    return ["runuser", "-u", "nobody", "--", *command]


def test_without_root_a_silent_broker_stops_it_before_the_command_and_it_prints_the_fix(
        tmp_path: Path) -> None:
    """Not root, with RabbitMQ silent: exit 1, the command never runs, and the one line to run is printed."""
    tmp_path.chmod(0o777)
    marker = tmp_path / "ran"
    env = {**os.environ, "AMQP_URL": f"amqp://guest:guest@127.0.0.1:{free_port()}//"}
    done = subprocess.run(as_unprivileged([str(PREPARE), "touch", str(marker)]), cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 1, done.stderr
    assert not marker.exists()
    if shutil.which("apt-get"):
        assert f"sudo {PREPARE}" in done.stderr
