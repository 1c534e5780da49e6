"""The whole pipeline as four separate processes over the real RabbitMQ, with an SMTP server."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from sqlalchemy import select

from shared.db.engine import make_engine, make_sessionmaker
from shared.db.models import Item, ItemMail
from shared.secrets import new_key
from tests.support.broker_admin import TEST_RETRY_DELAYS
from tests.support.pipeline import TOKEN_SECRET
from tests.support.servers import free_port
from tests.support.smtp import RecordingHandler
from tests.support.waiting import wait_for

ROOT = Path(__file__).resolve().parents[2]
SERVICES = ("fetcher", "parser", "itemwriter", "notifier")


class Pipeline:
    def __init__(self, env: dict[str, str], var: Path, inbox: Path, smtp: RecordingHandler, database_url: str) -> None:
        self.env, self.var, self.inbox, self.smtp = env, var, inbox, smtp
        self.procs: dict[str, subprocess.Popen[bytes]] = {}
        self.sessions = make_sessionmaker(make_engine(database_url))
        self._dropped = 0

    def cli(self, *args: str, stdin: bytes | None = None) -> subprocess.CompletedProcess[bytes]:
        return subprocess.run([sys.executable, "-m", "services.cli", *args], env=self.env, cwd=ROOT, input=stdin,
                              capture_output=True, timeout=60)

    @property
    def api_url(self) -> str:
        return f"http://127.0.0.1:{self.env['POSTROOM_API_PORT']}/api/v1"

    def start(self, *names: str) -> None:
        for name in names or SERVICES:
            log = (self.var / "log" / f"{name}.log").open("ab")
            self.procs[name] = subprocess.Popen([sys.executable, "-m", f"services.{name}"], env=self.env, cwd=ROOT,
                                                stdout=log, stderr=subprocess.STDOUT)

    def kill(self, name: str) -> None:
        proc = self.procs.pop(name)
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=10)

    def stop(self) -> None:
        for proc in self.procs.values():
            proc.send_signal(signal.SIGTERM)
        for proc in self.procs.values():
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                proc.kill()
        self.procs.clear()

    def drop(self, raw: bytes, name: str | None = None) -> None:
        """Put a mail into the drop folder atomically, as an MTA would."""
        self._dropped += 1
        name = name or f"mail-{self._dropped:04d}.eml"
        tmp = self.inbox / f".{name}"
        tmp.write_bytes(raw)
        tmp.rename(self.inbox / name)

    def items(self) -> list[dict[str, Any]]:
        with self.sessions() as s:
            return [{"number": i.number, "title": i.title, "automatic": i.automatic,
                     "mails": [(m.direction, m.message_id, m.matched_by) for m in i.mails]}
                    for i in s.scalars(select(Item).order_by(Item.number))]

    def inbound_mails(self) -> int:
        with self.sessions() as s:
            return len(s.scalars(select(ItemMail.id).where(ItemMail.direction == "in")).all())

    def wait_items(self, count: int, timeout: float = 20) -> list[dict[str, Any]]:
        wait_for(lambda: len(self.items()) >= count, timeout=timeout, what=f"{count} item(s)")
        return self.items()

    def logs(self) -> str:
        return "\n".join(p.read_text(errors="replace") for p in sorted((self.var / "log").glob("*.log")))


def mail(subject: str, *, sender: str = "Ada Lovelace <ada@example.com>", message_id: str | None = None,
         extra_headers: str = "", body: str = "Hello, something is broken.") -> bytes:
    mid = f"Message-ID: {message_id}\r\n" if message_id else ""
    return (f"From: {sender}\r\nTo: support@example.test\r\nSubject: {subject}\r\n{mid}"
            f"Date: Thu, 26 Nov 2026 09:00:00 +0000\r\n{extra_headers}"
            f"Content-Type: text/plain; charset=utf-8\r\n\r\n{body}\r\n").encode()


@pytest.fixture
def pipeline_env(tmp_path: Path, amqp_url: str, namespace: str, database_url: str,
                 smtp_server: tuple[RecordingHandler, int]) -> Iterator[Pipeline]:
    handler, port = smtp_server
    var = tmp_path / "var"
    inbox = var / "inbox"
    for sub in ("inbox", "log"):
        (var / sub).mkdir(parents=True)
    env = {**os.environ, "AMQP_URL": amqp_url, "DATABASE_URL": database_url, "POSTROOM_BROKER_NAMESPACE": namespace,
           "POSTROOM_VAR_DIR": str(var), "SMTP_HOST": "127.0.0.1", "SMTP_PORT": str(port), "SMTP_TLS": "none",
           "POSTROOM_RETRY_DELAYS": ",".join(map(str, TEST_RETRY_DELAYS)), "POSTROOM_MAX_RETRIES": "2", "POSTROOM_LOG_FORMAT": "json",
           "POSTROOM_LOG_LEVEL": "DEBUG", "POSTROOM_SECRET_KEYS": new_key(), "POSTROOM_POLL_INTERVAL": "0.1",
           "POSTROOM_SETTLE_SECONDS": "0", "POSTROOM_API_PORT": str(free_port()), "POSTROOM_RELAY_INTERVAL": "0.2",
           "POSTROOM_TOKEN_SECRET": TOKEN_SECRET}
    accounts = tmp_path / "accounts.yaml"
    accounts.write_text(yaml.safe_dump({"projects": [{"name": "Demo"}], "accounts": [
        {"name": "demo", "kind": "dropfolder", "path": str(inbox), "address": "support@example.test",
         "project": "Demo", "item_type": "incident", "auto_reply": True}]}))
    p = Pipeline(env, var, inbox, handler, database_url)
    applied = p.cli("config", "apply", "-f", str(accounts))
    assert applied.returncode == 0, applied.stderr.decode()
    yield p
    p.stop()


@pytest.fixture
def pipeline(pipeline_env: Pipeline) -> Pipeline:
    pipeline_env.start()
    return pipeline_env
