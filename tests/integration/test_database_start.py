"""A service that uses the database waits for it at start (backoff, one log line per attempt without
the password, live but not ready), then checks the schema revision: against a database an older or a
newer release migrated it refuses to start, saying which revision it found, which it needs, and what
to run."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from shared.db.engine import make_engine, normalize_url
from shared.db.migrate import upgrade
from shared.db.schema import SchemaMismatch, check_schema, head_revision, wait_for_schema
from shared.health import HealthState
from tests.support.pipeline import TOKEN_SECRET
from tests.support.servers import free_port
from tests.support.tcpforward import TcpForwarder
from tests.support.waiting import wait_for
from tests.support.servicestart import health_status, log_lines

ROOT = Path(__file__).resolve().parents[2]
PASSWORD = "pw-never-in-the-log-5f1c"


@pytest.fixture
def empty_database(postgres_server_url: str) -> Iterator[str]:
    """A new, empty PostgreSQL database's URL (dropped afterwards)."""
    name = f"postroom_s_{uuid.uuid4().hex[:12]}"
    admin = create_engine(normalize_url(postgres_server_url), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    yield make_url(normalize_url(postgres_server_url)).set(database=name).render_as_string(hide_password=False)
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


def _previous(engine) -> str:  # type: ignore[no-untyped-def]
    from alembic.script import ScriptDirectory

    from shared.db.migrate import alembic_config

    previous = ScriptDirectory.from_config(alembic_config(engine)).get_revision(head_revision(engine)).down_revision
    assert isinstance(previous, str)
    return previous


def test_the_schema_check_names_the_revision_found_the_one_needed_and_the_command(empty_database):
    engine = make_engine(empty_database)
    try:
        head = head_revision(engine)
        with pytest.raises(SchemaMismatch, match=rf"database schema is empty \(never migrated\), this release needs {head}: run `postroom db upgrade`"):
            check_schema(engine)
        older = _previous(engine)
        upgrade(engine, older)
        with pytest.raises(SchemaMismatch) as raised:
            check_schema(engine)
        assert str(raised.value) == (f"database schema is at {older}, this release needs {head}: run `postroom db "
                                     "upgrade` (on Kubernetes: the migration Job, postroom-db-upgrade-<version>)")
        upgrade(engine)
        assert check_schema(engine) == head
        with engine.begin() as conn:  # a newer release's migration ran
            conn.execute(text("UPDATE alembic_version SET version_num = '9999'"))
        with pytest.raises(SchemaMismatch, match="database schema is at 9999, which this release does not know"):
            check_schema(engine)
    finally:
        engine.dispose()


def test_the_wait_ends_at_once_when_stopped_while_the_database_is_away():
    stop = threading.Event()
    stop.set()
    assert wait_for_schema(f"postgresql://postroom@127.0.0.1:{free_port()}/postroom", stop, HealthState()) is None


def _attempts(log: Path) -> list[dict]:
    return [line for line in log_lines(log) if line.get("event") == "database unreachable; trying again"]


def _start(service: str, env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    with log.open("wb") as out:
        return subprocess.Popen([sys.executable, "-m", f"services.{service}"], cwd=ROOT,
                                env={**os.environ, "POSTROOM_TOKEN_SECRET": TOKEN_SECRET, "POSTROOM_LOG_FORMAT": "json",
                                     **env}, stdout=out, stderr=subprocess.STDOUT)


def _stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        process.kill()
        process.wait(timeout=10)


def test_a_service_started_before_the_database_waits_for_it_then_starts(empty_database, amqp_url, namespace, tmp_path):
    """The itemwriter pointed at a port where PostgreSQL is not yet: live, not ready, one warning per
    attempt without the password; then PostgreSQL answers on that port and it checks the schema,
    declares and consumes; SIGTERM stops it cleanly."""
    engine = make_engine(empty_database)
    upgrade(engine)
    engine.dispose()
    real = make_url(empty_database)
    port, health_port = free_port(), free_port()
    waiting_url = real.set(host="127.0.0.1", port=port, password=PASSWORD).render_as_string(hide_password=False)
    log = tmp_path / "itemwriter.log"
    service = _start("itemwriter", {"DATABASE_URL": waiting_url, "AMQP_URL": amqp_url,
                                    "POSTROOM_BROKER_NAMESPACE": namespace, "POSTROOM_HEALTH_PORT": str(health_port),
                                    "POSTROOM_VAR_DIR": str(tmp_path / "var")}, log)
    forwarder = None
    try:
        wait_for(lambda: len(_attempts(log)) >= 3, timeout=20, what="three attempts to reach the database")
        assert service.poll() is None, log.read_text()
        assert health_status(health_port, "/live") == 200
        assert health_status(health_port, "/ready") == 503
        attempts = _attempts(log)
        assert [a["attempt"] for a in attempts] == list(range(1, len(attempts) + 1))
        assert attempts[1]["retry_in_s"] > 0 and "refused" in attempts[0]["error"].lower()
        forwarder = TcpForwarder(port, (real.host or "127.0.0.1", real.port or 5432))
        wait_for(lambda: health_status(health_port, "/ready") == 200, timeout=40, interval=0.2, what="the itemwriter ready")
        events = [line.get("event") for line in log_lines(log)]
        assert {"database reachable", "database schema checked", "started"} <= set(events)
        service.send_signal(signal.SIGTERM)
        assert service.wait(timeout=20) == 0
    finally:
        _stop(service)
        if forwarder is not None:
            forwarder.close()
    text_ = log.read_text()
    assert PASSWORD not in text_ and "Traceback" not in text_, text_


@pytest.mark.parametrize("service", ["itemwriter", "notifier", "fetcher", "api"])
def test_a_service_refuses_to_start_on_a_database_an_older_release_migrated(service, empty_database, amqp_url,
                                                                           namespace, tmp_path):
    engine = make_engine(empty_database)
    older, head = _previous(engine), head_revision(engine)
    upgrade(engine, older)
    engine.dispose()
    log = tmp_path / f"{service}.log"
    process = _start(service, {"DATABASE_URL": empty_database, "AMQP_URL": amqp_url,
                               "POSTROOM_BROKER_NAMESPACE": namespace, "POSTROOM_VAR_DIR": str(tmp_path / "var")}, log)
    try:
        assert process.wait(timeout=30) == 2, log.read_text()
    finally:
        _stop(process)
    (refusal,) = [line for line in log_lines(log) if line.get("event") == "refusing to start"]
    assert refusal["level"] == "error"
    assert refusal["reason"].startswith(f"database schema is at {older}, this release needs {head}: run `postroom db upgrade`")
    assert "started" not in [line.get("event") for line in log_lines(log)] and "Traceback" not in log.read_text()
