"""The four services as separate processes over RabbitMQ, each one's memory watched from /proc."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from shared.secrets import new_key
from tests.support.pipeline import TOKEN_SECRET

ROOT = Path(__file__).resolve().parents[2]
SERVICES = ("fetcher", "parser", "itemwriter", "notifier")


def proc_status(pid: int) -> dict[str, int]:
    """VmRSS and VmHWM of ``pid`` in bytes ({} once it is gone)."""
    try:
        text = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return {}
    out = {}
    for line in text.splitlines():
        if line.startswith(("VmRSS:", "VmHWM:")):
            name, value = line.split(":", 1)
            out[name] = int(value.split()[0]) * 1024
    return out


def cpu_seconds(pid: int) -> float | None:
    """User + system CPU time of ``pid`` so far (None once it is gone)."""
    try:
        text = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    fields = text.rsplit(")", 1)[1].split()  # after the command name, which may hold spaces
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


# The servers the pipeline leans on, by the command name of their processes' root (its children,
# live or reaped, are counted with it: PostgreSQL backends, Dovecot's imap processes).
SERVERS = {"RabbitMQ": "beam.smp", "PostgreSQL": "postgres", "Dovecot": "dovecot"}


def _processes() -> dict[int, tuple[str, int, float]]:
    """pid -> (command name, parent pid, CPU seconds of itself and of its reaped children)."""
    tick = os.sysconf("SC_CLK_TCK")
    out = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            text = (entry / "stat").read_text()
        except OSError:
            continue
        name = text[text.index("(") + 1:text.rindex(")")]
        fields = text.rsplit(")", 1)[1].split()
        out[int(entry.name)] = (name, int(fields[1]), sum(int(v) for v in fields[11:15]) / tick)
    return out


def server_cpu_seconds() -> dict[str, float]:
    """CPU seconds so far of each server in SERVERS: every process tree whose root runs that command
    (all instances on the machine: the bench's private ones and the machine's own)."""
    procs = _processes()
    children: dict[int, list[int]] = {}
    for pid, (_, parent, _) in procs.items():
        children.setdefault(parent, []).append(pid)
    totals = dict.fromkeys(SERVERS, 0.0)
    by_command = {command: server for server, command in SERVERS.items()}
    for pid, (name, parent, _) in procs.items():
        server = by_command.get(name)
        if server is None or procs.get(parent, ("",))[0] == name:
            continue  # not a server, or not the root of its tree
        totals[server] += _tree_seconds(pid, procs, children)
    return totals


def _tree_seconds(root: int, procs: dict[int, tuple[str, int, float]], children: dict[int, list[int]]) -> float:
    total, todo = 0.0, [root]
    while todo:
        pid = todo.pop()
        total += procs[pid][2]
        todo.extend(children.get(pid, []))
    return total


def machine_busy_seconds() -> float:
    """CPU time the whole machine has spent not idle since boot, over all cores (/proc/stat)."""
    values = [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    idle = values[3] + (values[4] if len(values) > 4 else 0)  # idle + iowait
    return (sum(values[:8]) - idle) / os.sysconf("SC_CLK_TCK")


@dataclass
class Memory:
    """Per service: the RSS over time, and the highest VmHWM of any of its processes."""

    samples: dict[str, list[tuple[float, int]]] = field(default_factory=lambda: {s: [] for s in SERVICES})
    peak: dict[str, int] = field(default_factory=lambda: dict.fromkeys(SERVICES, 0))

    def note(self, name: str, pid: int, at: float) -> None:
        status = proc_status(pid)
        if status:
            self.samples[name].append((at, status.get("VmRSS", 0)))
            self.peak[name] = max(self.peak[name], status.get("VmHWM", 0))


class Stack:
    def __init__(self, work: Path, amqp_url: str, database_url: str, smtp_port: int, namespace: str,
                 extra_env: dict[str, str] | None = None) -> None:
        self.work, self.log_dir = work, work / "log"
        self.log_dir.mkdir(parents=True, exist_ok=True)
        self.env = {**os.environ, "AMQP_URL": amqp_url, "DATABASE_URL": database_url,
                    "POSTROOM_BROKER_NAMESPACE": namespace, "POSTROOM_VAR_DIR": str(work / "var"),
                    "SMTP_HOST": "127.0.0.1", "SMTP_PORT": str(smtp_port), "SMTP_TLS": "none",
                    "POSTROOM_LOG_FORMAT": "json", "POSTROOM_SECRET_KEYS": new_key(), "POSTROOM_TOKEN_SECRET": TOKEN_SECRET,
                    **(extra_env or {})}
        self.procs: dict[str, subprocess.Popen[bytes]] = {}
        self.memory = Memory()
        self._stop = threading.Event()
        self._sampler: threading.Thread | None = None

    def apply_accounts(self, accounts: list[dict[str, object]]) -> None:
        path = self.work / "accounts.yaml"
        # config apply: the accounts' projects are declared beside them (an undeclared one is refused).
        projects = [{"name": name} for name in sorted({str(a["project"]) for a in accounts})]
        path.write_text(yaml.safe_dump({"projects": projects, "accounts": accounts}))
        done = subprocess.run([sys.executable, "-m", "services.cli", "config", "apply", "-f", str(path)],
                              env=self.env, cwd=ROOT, capture_output=True, timeout=120)
        if done.returncode != 0:
            raise RuntimeError(f"config apply failed: {done.stderr.decode()[-2000:]}")

    def start(self, *names: str) -> None:
        for name in names or SERVICES:
            log = (self.log_dir / f"{name}.log").open("ab")
            self.procs[name] = subprocess.Popen([sys.executable, "-m", f"services.{name}"], env=self.env, cwd=ROOT,
                                                stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
        if self._sampler is None:
            self._sampler = threading.Thread(target=self._sample, daemon=True)
            self._sampler.start()

    def _sample(self) -> None:
        while not self._stop.wait(0.5):
            self.sample_now()

    def sample_now(self) -> None:
        now = time.time()
        for name, proc in list(self.procs.items()):
            self.memory.note(name, proc.pid, now)

    def kill(self, name: str) -> None:
        """SIGKILL: no shutdown, whatever was in flight is cut."""
        proc = self.procs.pop(name)
        self.memory.note(name, proc.pid, time.time())
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=10)

    def cpu(self) -> dict[str, float]:
        """Each running service's CPU seconds since it started."""
        return {name: cpu_seconds(proc.pid) or 0.0 for name, proc in self.procs.items()}

    def alive(self, name: str) -> bool:
        proc = self.procs.get(name)
        return proc is not None and proc.poll() is None

    def stop(self) -> None:
        self.sample_now()
        for proc in self.procs.values():
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
        for proc in self.procs.values():
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        self.procs.clear()
        self._stop.set()

    def logs(self, name: str) -> Path:
        return self.log_dir / f"{name}.log"
