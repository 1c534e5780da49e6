"""For ``make up``: is a broker answering, and if not, can we start Debian's RabbitMQ in ``var/``?"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import time
from pathlib import Path
from urllib.parse import urlparse


def broker_answers(amqp_url: str, timeout: float = 2.0) -> bool:
    from kombu import Connection

    parsed = urlparse(amqp_url)
    try:
        with socket.create_connection((parsed.hostname or "localhost", parsed.port or 5672), timeout=timeout):
            pass
        with Connection(amqp_url, connect_timeout=timeout) as conn:
            conn.ensure_connection(max_retries=1)
        return True
    except Exception:
        return False


def start_local_rabbitmq(var_dir: Path, amqp_url: str, wait: float = 60.0) -> bool:
    """Start a loopback-only RabbitMQ with all its state under ``var_dir/rabbitmq``."""
    server, ctl = shutil.which("rabbitmq-server"), shutil.which("rabbitmqctl")
    parsed = urlparse(amqp_url)
    if not server or not ctl or parsed.hostname not in {"localhost", "127.0.0.1"}:
        return False
    base = (var_dir / "rabbitmq").absolute()
    base.mkdir(parents=True, exist_ok=True)
    port = parsed.port or 5672
    (base / "rabbitmq.conf").write_text(f"listeners.tcp.default = 127.0.0.1:{port}\n"
                                        "loopback_users = none\n")
    (base / "enabled_plugins").write_text("[].\n")
    dist = "-kernel inet_dist_use_interface {127,0,0,1}"
    env = {**os.environ, "RABBITMQ_MNESIA_BASE": str(base / "mnesia"), "RABBITMQ_LOG_BASE": str(base / "log"),
           "RABBITMQ_CONFIG_FILE": str(base / "rabbitmq"),
           "RABBITMQ_ENABLED_PLUGINS_FILE": str(base / "enabled_plugins"),
           "RABBITMQ_NODE_IP_ADDRESS": "127.0.0.1", "ERL_EPMD_ADDRESS": "127.0.0.1",
           "RABBITMQ_NODENAME": f"postroom{port}@localhost", "RABBITMQ_SERVER_ADDITIONAL_ERL_ARGS": dist,
           "RABBITMQ_CTL_ERL_ARGS": dist}
    try:
        subprocess.run([server, "-detached"], env=env, check=True, capture_output=True, timeout=30)
    except (subprocess.SubprocessError, OSError):
        return False
    deadline = time.monotonic() + wait
    while time.monotonic() < deadline:
        if broker_answers(amqp_url, timeout=1.0):
            return True
        time.sleep(1.0)
    return False
