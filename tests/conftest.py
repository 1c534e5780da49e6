"""Fixtures for every tier: real servers (RabbitMQ, PostgreSQL, aiosmtpd), isolated per test."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from shared.broker.memory import MemoryBroker
from shared.secrets import SecretBox
from tests.support.dovecot import DovecotServer, MailUser
from tests.support.s3 import S3Server
from tests.support.servers import free_port, resolve_amqp_url, resolve_postgres_url
from tests.support.smtp import RecordingHandler

ROOT = Path(__file__).resolve().parent.parent
CORPUS = ROOT.parent / "shared" / "corpus"
DATA = Path(__file__).parent / "data"


@pytest.fixture(scope="session")
def amqp_url() -> Iterator[str]:
    url, container = resolve_amqp_url()
    yield url
    if container is not None:
        container.stop()  # type: ignore[attr-defined]


@pytest.fixture(scope="session")
def postgres_server_url() -> Iterator[str]:
    url, container = resolve_postgres_url()
    yield url
    if container is not None:
        container.stop()  # type: ignore[attr-defined]


@pytest.fixture
def namespace(amqp_url: str) -> Iterator[str]:
    """A throw-away prefix for every exchange and queue of one test; deleted afterwards."""
    ns = f"t{uuid.uuid4().hex[:10]}."
    yield ns
    from tests.support.broker_admin import delete_namespace

    delete_namespace(amqp_url, ns)


def _admin_engine(server_url: str):  # type: ignore[no-untyped-def]
    from sqlalchemy import create_engine

    from shared.db.engine import normalize_url

    return create_engine(normalize_url(server_url), isolation_level="AUTOCOMMIT")


def _database_url(server_url: str, name: str) -> str:
    from sqlalchemy.engine import make_url

    from shared.db.engine import normalize_url

    return make_url(normalize_url(server_url)).set(database=name).render_as_string(hide_password=False)


@pytest.fixture(scope="session")
def _postgres_template(postgres_server_url: str) -> Iterator[str]:
    """A PostgreSQL database migrated once; each test copies it (CREATE DATABASE ... TEMPLATE) instead
    of running every migration again."""
    from sqlalchemy import text

    from shared.db.engine import make_engine
    from shared.db.migrate import upgrade

    name = f"postroom_tpl_{uuid.uuid4().hex[:12]}"
    admin = _admin_engine(postgres_server_url)
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    engine = make_engine(_database_url(postgres_server_url, name))
    upgrade(engine)
    engine.dispose()
    yield name
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


@pytest.fixture(scope="session")
def _sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from shared.db.engine import make_engine
    from shared.db.migrate import upgrade

    path = tmp_path_factory.mktemp("template") / "postroom.db"
    engine = make_engine(f"sqlite:///{path}")
    upgrade(engine)
    engine.dispose()
    return path


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A migrated, empty database: SQLite in a temp file, and a fresh PostgreSQL database."""
    import shutil

    from sqlalchemy import text

    if request.param == "sqlite":
        target = tmp_path / "postroom.db"
        shutil.copyfile(request.getfixturevalue("_sqlite_template"), target)
        yield f"sqlite:///{target}"
        return
    server_url = request.getfixturevalue("postgres_server_url")
    template = request.getfixturevalue("_postgres_template")
    name = f"postroom_t_{uuid.uuid4().hex[:12]}"
    admin = _admin_engine(server_url)
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}" TEMPLATE "{template}"'))
    yield _database_url(server_url, name)
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


@pytest.fixture
def sessions(database_url: str):  # type: ignore[no-untyped-def]
    from shared.db.engine import make_engine, make_sessionmaker

    engine = make_engine(database_url)
    yield make_sessionmaker(engine)
    engine.dispose()


@pytest.fixture
def smtp_server() -> Iterator[tuple[RecordingHandler, int]]:
    from aiosmtpd.controller import Controller

    handler = RecordingHandler()
    port = free_port()
    controller = Controller(handler, hostname="127.0.0.1", port=port)
    controller.start()
    yield handler, port
    controller.stop()


def _require_dovecot() -> None:
    from pathlib import Path as _Path

    from tests.support.dovecot import DOVECOT
    from tests.support.servers import unavailable

    if not _Path(DOVECOT).is_file():
        unavailable("Dovecot (apt-get install dovecot-imapd dovecot-pop3d)", DOVECOT)


@pytest.fixture(scope="session")
def dovecot() -> Iterator[DovecotServer]:
    """A real Dovecot (IMAP and POP3, no TLS) for the whole session; each test takes its own user."""
    _require_dovecot()
    # Dovecot cannot put spaces in a refusal reason: "_" stands for them (the fetcher reads both).
    server = DovecotServer(special={"two-factor": "nologin reason=[ALERT]_Application-specific_password_required"})
    server.start()
    yield server
    server.stop()


@pytest.fixture(scope="session")
def dovecot_tls() -> Iterator[DovecotServer]:
    """A real Dovecot with a self-signed certificate: implicit TLS ports and STARTTLS/STLS offered."""
    _require_dovecot()
    server = DovecotServer(tls=True).start()
    yield server
    server.stop()


@pytest.fixture
def mail_user(dovecot: DovecotServer) -> MailUser:
    return dovecot.add_user()


@pytest.fixture
def secret_key() -> str:
    from shared.secrets import new_key

    return new_key()


@pytest.fixture
def secret_box(secret_key: str) -> SecretBox:
    return SecretBox([secret_key])


@pytest.fixture
def memory_broker() -> MemoryBroker:
    broker = MemoryBroker()
    broker.declare()
    return broker


@pytest.fixture(scope="session")
def s3_server() -> Iterator[S3Server]:
    """moto's S3 server, once per test session."""
    from tests.support.s3 import moto_server

    with moto_server() as server:
        yield server

