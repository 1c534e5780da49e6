"""One mail can be followed through the services' JSON log lines by its correlation id."""

from __future__ import annotations

import io
import json
import threading
from importlib import import_module
from pathlib import Path
from typing import Any

import pytest
import structlog

from shared.accounts.specs import AccountSpec, apply_specs
from services.fetcher.ingest import ingest_raw
from shared.broker.memory import MemoryBroker
from shared.broker.topology import Topology
from shared.health import HealthState
from shared.logging import configure_logging
from shared.secrets import SecretBox, new_key
from shared.store import FilesystemBlobStore
from tests.support.broker_admin import TEST_RETRY_DELAYS
from tests.support.pipeline import TOKEN_SECRET
from tests.support.smtp import RecordingHandler
from tests.support.waiting import wait_for

PASSWORD = "pw-Correct-Horse-9931"
MAIL = (b"From: Ada <ada@example.com>\r\nTo: support@example.test\r\nSubject: Scanner offline\r\n"
        b"Message-ID: <scanner@example.com>\r\nDate: Thu, 26 Nov 2026 09:00:00 +0000\r\n\r\nIt is offline.\r\n")


class Captured(io.StringIO):
    def isatty(self) -> bool:
        return False


@pytest.fixture
def captured_logs() -> Any:
    stream = Captured()
    configure_logging("DEBUG", "json", stream=stream)
    yield stream
    structlog.reset_defaults()


def test_one_mail_is_followed_through_parser_itemwriter_and_notifier_by_its_correlation_id(
        database_url: str, sessions: Any, smtp_server: tuple[RecordingHandler, int], tmp_path: Path,
        monkeypatch: pytest.MonkeyPatch, captured_logs: Captured) -> None:
    key = new_key()
    smtp, port = smtp_server
    for name, value in {"DATABASE_URL": database_url, "POSTROOM_STORE_DIR": str(tmp_path / "store"),
                        "POSTROOM_SECRET_KEYS": key, "SMTP_HOST": "127.0.0.1", "SMTP_PORT": str(port),
                        "POSTROOM_TOKEN_SECRET": TOKEN_SECRET}.items():
        monkeypatch.setenv(name, value)
    with sessions() as s, s.begin():
        apply_specs(s, [AccountSpec(name="support", kind="stdin", address="support@example.test", project="IT",
                                    password=PASSWORD)], tmp_path, SecretBox([key]))
    broker = MemoryBroker(Topology(retry_delays=TEST_RETRY_DELAYS))
    broker.declare()
    stop = threading.Event()
    threads = []
    for name in ("parser", "itemwriter", "notifier"):
        module = import_module(f"services.{name}.settings")
        settings_cls = next(v for k, v in vars(module).items()
                            if k.endswith("Settings") and getattr(v, "__module__", None) == module.__name__)
        service = import_module(f"services.{name}.bootstrap").build(settings_cls(), HealthState(), broker)
        threads.append(threading.Thread(target=service.run, args=(stop,), daemon=True))
        threads[-1].start()
    try:
        envelope = ingest_raw(account="support", source="stdin", source_id="stdin:scanner", raw=MAIL,
                              store=FilesystemBlobStore(tmp_path / "store"), broker=broker)
        wait_for(lambda: smtp.received, what="the auto-reply")
        wait_for(broker.idle, what="every queue drained")
    finally:
        stop.set()
        for thread in threads:
            thread.join(timeout=10)

    text = captured_logs.getvalue()
    lines = [json.loads(line) for line in text.splitlines() if line.strip()]  # every line is one JSON object
    trail = [line for line in lines if line.get("correlation_id") == envelope.correlation_id]
    handled = [(line["stage"], line["outcome"]) for line in trail if line["event"] == "handled"]
    assert handled == [("parser", "ok"), ("itemwriter", "ok"), ("notifier", "ok")]
    assert {"item written", "auto-reply sent"} <= {line["event"] for line in trail}
    assert all("duration_ms" in line for line in trail if line["event"] == "handled")
    assert PASSWORD not in text and key not in text
