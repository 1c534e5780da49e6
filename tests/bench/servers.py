"""The servers a run uses. The bench uses the machine's RabbitMQ and PostgreSQL (``AMQP_URL``,
``DATABASE_URL``) with a throw-away namespace and database. Chaos restarts its servers, so it starts
private ones: RabbitMQ and PostgreSQL on other ports, all their state in a scratch directory; the
machine's shared servers (5672, 5432) are never touched."""

from __future__ import annotations

import os
import pwd
import shutil
import signal
import socket
import subprocess
import tempfile
import time
import uuid
from pathlib import Path

from tests.support.servers import DEFAULT_AMQP_URL, DEFAULT_DATABASE_URL, free_port

RABBIT_BIN = Path("/usr/lib/rabbitmq/bin")
PG_BIN = Path(os.environ.get("POSTROOM_PG_BIN", "/usr/lib/postgresql/15/bin"))


def answers(port: int, host: str = "127.0.0.1") -> bool:
    try:
        socket.create_connection((host, port), timeout=1).close()
        return True
    except OSError:
        return False


def wait_port(port: int, timeout: float, what: str, proc: subprocess.Popen[bytes] | None = None) -> float:
    started = time.monotonic()
    while not answers(port):
        if proc is not None and proc.poll() is not None:
            raise RuntimeError(f"{what} exited with {proc.returncode}")
        if time.monotonic() - started > timeout:
            raise RuntimeError(f"{what} did not answer on port {port} within {timeout:.0f} s")
        time.sleep(0.1)
    return time.monotonic() - started


def fresh_database(server_url: str) -> str:
    """A new, migrated database on the server at ``server_url``."""
    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url

    from shared.db.engine import make_engine, normalize_url
    from shared.db.migrate import upgrade

    name = f"postroom_bench_{uuid.uuid4().hex[:10]}"
    admin = create_engine(normalize_url(server_url), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    url = make_url(normalize_url(server_url)).set(database=name).render_as_string(hide_password=False)
    engine = make_engine(url)
    upgrade(engine)
    engine.dispose()
    return url


def drop_database(server_url: str, url: str) -> None:
    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url

    from shared.db.engine import normalize_url

    admin = create_engine(normalize_url(server_url), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{make_url(url).database}" WITH (FORCE)'))
    admin.dispose()


def shared_urls() -> tuple[str, str]:
    return os.environ.get("AMQP_URL", DEFAULT_AMQP_URL), os.environ.get("DATABASE_URL", DEFAULT_DATABASE_URL)


class PrivateRabbit:
    """Debian's RabbitMQ, loopback only, state under ``root``; the Popen is the Erlang VM itself."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.port, self.dist_port = free_port(), free_port()
        self.node = f"postroom-bench-{self.port}@localhost"
        self.url = f"amqp://guest:guest@127.0.0.1:{self.port}//"
        self.proc: subprocess.Popen[bytes] | None = None

    def _env(self) -> dict[str, str]:
        dist = "-kernel inet_dist_use_interface {127,0,0,1}"
        return {**os.environ, "HOME": str(self.root), "RABBITMQ_MNESIA_BASE": str(self.root / "mnesia"),
                "RABBITMQ_LOG_BASE": str(self.root / "log"), "RABBITMQ_CONFIG_FILE": str(self.root / "rabbitmq"),
                "RABBITMQ_ENABLED_PLUGINS_FILE": str(self.root / "enabled_plugins"),
                "RABBITMQ_NODE_IP_ADDRESS": "127.0.0.1", "ERL_EPMD_ADDRESS": "127.0.0.1",
                "RABBITMQ_NODENAME": self.node, "RABBITMQ_DIST_PORT": str(self.dist_port),
                "RABBITMQ_SERVER_ADDITIONAL_ERL_ARGS": dist, "RABBITMQ_CTL_ERL_ARGS": dist,
                # exec the VM in place of the script: our Popen's pid is the broker, SIGTERM stops it.
                "RUNNING_UNDER_SYSTEMD": "1"}

    def start(self, timeout: float = 90) -> float:
        self.root.mkdir(parents=True, exist_ok=True)
        (self.root / "rabbitmq.conf").write_text(f"listeners.tcp.default = 127.0.0.1:{self.port}\n"
                                                 "loopback_users = none\n")
        (self.root / "enabled_plugins").write_text("[].\n")
        log = (self.root / "server.out").open("ab")
        self.proc = subprocess.Popen([str(RABBIT_BIN / "rabbitmq-server")], env=self._env(), cwd=self.root,
                                     stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
                                     start_new_session=True)
        return wait_port(self.port, timeout, "RabbitMQ", self.proc)

    def stop(self, timeout: float = 60) -> None:
        if self.proc is None or self.proc.poll() is not None:
            return
        self.proc.send_signal(signal.SIGTERM)
        try:
            self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()

    def restart(self) -> float:
        """Stop (SIGTERM, a clean shutdown) and start again; return the seconds it was away."""
        started = time.monotonic()
        self.stop()
        self.start()
        return time.monotonic() - started


class PrivatePostgres:
    """A PostgreSQL cluster of its own under ``root`` (initdb refuses root: run as ``postgres`` then)."""

    def __init__(self, root: Path) -> None:
        self.root, self.port = root, free_port()
        self.data = root / "data"
        self.url = f"postgresql://postgres@127.0.0.1:{self.port}/postgres"
        self._user = "postgres" if os.getuid() == 0 else None

    def _run(self, *args: str, timeout: float = 120) -> None:
        cmd = [*args]
        if self._user:
            cmd = ["runuser", "-u", self._user, "--", *cmd]
        subprocess.run(cmd, check=True, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                       stderr=subprocess.DEVNULL, timeout=timeout)

    def _ctl(self, *args: str) -> None:
        opts = f"-p {self.port} -k {self.root} -c listen_addresses=127.0.0.1 -c fsync=on"
        self._run(str(PG_BIN / "pg_ctl"), "-D", str(self.data), "-l", str(self.root / "server.log"), "-w",
                  "-o", opts, *args)

    def start(self) -> None:
        self.root.mkdir(parents=True, exist_ok=True)
        if self._user:
            entry = pwd.getpwnam(self._user)
            os.chown(self.root, entry.pw_uid, entry.pw_gid)
            for parent in self.root.parents:  # the server's user must reach its directory
                if parent == Path(tempfile.gettempdir()) or parent == parent.parent:
                    break
                parent.chmod(parent.stat().st_mode | 0o711)
        if not self.data.exists():
            self._run(str(PG_BIN / "initdb"), "-D", str(self.data), "-A", "trust", "-U", "postgres")
        self._ctl("start")

    def restart(self) -> float:
        """A crash and recovery (``-m immediate``): connections cut mid-transaction."""
        started = time.monotonic()
        self._ctl("-m", "immediate", "restart")
        return time.monotonic() - started

    def stop(self) -> None:
        try:
            self._ctl("-m", "fast", "stop")
        except subprocess.SubprocessError:
            pass


def remove(path: Path) -> None:
    shutil.rmtree(path, ignore_errors=True)
