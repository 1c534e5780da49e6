"""A first import of 2,000 mails: bounded memory whatever the mailbox size, and resumable after a
SIGKILL with every mail published (the guarantee: at least once, and a copy only for the one batch
in flight at the kill, with the same message id, which the itemwriter drops)."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import tracemalloc
from collections import Counter
from pathlib import Path

import pytest
from sqlalchemy import select

from services.fetcher.cursors import CursorRepo
from services.fetcher.failedmail import FailedMailRepo
from shared.mailboxes.imap import ImapFolder, close_quietly, open_imap
from services.fetcher.imap_sync import ImapSync
from services.fetcher.ingest import ingest_batch
from services.fetcher.leases import LeaseRepo
from shared.mailboxes.mailconfig import ImapConfig
from shared.db.engine import make_engine, make_sessionmaker
from shared.db.migrate import upgrade
from shared.db.models import MailboxCursor
from tests.support.dovecot import sample_mail
from tests.support.fakes import CountingBroker, DigestOnlyStore
from tests.support.fetching import apply_account, imap_account
from tests.support.waiting import wait_for

pytestmark = pytest.mark.slow
MAILS = 2000
ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def sqlite_sessions(tmp_path):  # type: ignore[no-untyped-def]
    """One database is enough here: the subject is memory and crash recovery, not SQL dialects."""
    url = f"sqlite:///{tmp_path / 'fetcher.db'}"
    engine = make_engine(url)
    upgrade(engine)
    yield url, make_sessionmaker(engine)
    engine.dispose()


def test_importing_2000_mails_keeps_the_fetchers_memory_flat(mail_user, sqlite_sessions):
    """40 MB of mail pass through a fetcher whose Python heap peaks far below that (batches of 512 KB)."""
    _, sessions = sqlite_sessions
    mail_user.write_maildir(sample_mail(n, size=20_000) for n in range(MAILS))
    config = ImapConfig(host="127.0.0.1", port=mail_user.server.imap_port, tls="none", user=mail_user.name,
                        after_fetch="leave", batch_size=100, batch_bytes=512 * 1024)
    leases = LeaseRepo(sessions, "test", 600)
    assert leases.acquire("big")
    broker, store = CountingBroker(), DigestOnlyStore()
    client = open_imap(config, mail_user.password)
    folder = ImapFolder(client, "INBOX", readonly=True)
    folder.select()  # Dovecot indexes the new Maildir now, outside the measurement

    def ingest(mails: list[tuple[str, bytes, bool]]) -> None:
        ingest_batch(account="big", source="imap", mails=mails, store=store, broker=broker)

    sync = ImapSync("big", config, folder, CursorRepo(sessions, leases, "big"), FailedMailRepo(sessions, "big", 3),
                    ingest)
    tracemalloc.start()
    try:
        published = sync.run(threading.Event())
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
        close_quietly(client)
    assert published == MAILS and len(broker.source_ids) == MAILS
    assert peak < 8 * 1024 * 1024, f"peak {peak / 1e6:.1f} MB for a 40 MB mailbox"


def test_an_import_killed_midway_resumes_and_publishes_every_mail(mail_user, sqlite_sessions, secret_box,
                                                                  secret_key, amqp_url, namespace, tmp_path,
                                                                  request):
    """SIGKILL the fetcher process mid-import; a new process (a new replica id) takes the account
    when the dead one's lease expires, and resumes at the last checkpoint."""
    from tests.support.broker_admin import get_all

    url, sessions = sqlite_sessions
    mail_user.write_maildir(sample_mail(n) for n in range(MAILS))
    apply_account(sessions, secret_box, **imap_account(mail_user, batch_size=50, after_fetch="leave"))
    shm = Path("/dev/shm")  # fsync-free: the subject is not disks
    store = Path(tempfile.mkdtemp(prefix="postroom-store-", dir=shm if shm.is_dir() else tmp_path))
    request.addfinalizer(lambda: shutil.rmtree(store, ignore_errors=True))
    env = {**os.environ, "DATABASE_URL": url, "AMQP_URL": amqp_url, "POSTROOM_BROKER_NAMESPACE": namespace,
           "POSTROOM_VAR_DIR": str(tmp_path / "var"), "POSTROOM_STORE_DIR": str(store),
           "POSTROOM_SECRET_KEYS": secret_key, "POSTROOM_LEASE_TTL": "2", "POSTROOM_ACCOUNTS_REFRESH": "0.2",
           "POSTROOM_LOG_FORMAT": "json", "POSTROOM_BACKOFF_BASE": "0.1", "PYTHONPATH": str(ROOT)}

    def cursor() -> tuple[int, int]:
        with sessions() as session:
            row = session.scalar(select(MailboxCursor))
            return (row.imported, row.last_uid) if row else (0, 0)

    def start(log: str) -> subprocess.Popen[bytes]:
        return subprocess.Popen([sys.executable, "-m", "services.fetcher"], env=env, cwd=ROOT,
                                stdout=(tmp_path / log).open("wb"), stderr=subprocess.STDOUT)

    first = start("first.log")
    try:
        wait_for(lambda: cursor()[0] >= 400, timeout=60, what="a fifth of the import")
    finally:
        first.send_signal(signal.SIGKILL)
        first.wait(10)
    killed_at = cursor()[0]
    assert killed_at < MAILS, "the import finished before the kill: nothing was tested"
    second = start("second.log")
    try:
        wait_for(lambda: cursor()[1] == MAILS, timeout=90, what="the import finished")
    finally:
        second.send_signal(signal.SIGTERM)
        assert second.wait(30) == 0
    bodies = [json.loads(body) for body, _ in get_all(amqp_url, f"{namespace}parser.mail.fetched")]
    counts = Counter(b["payload"]["source_id"] for b in bodies)
    validity = mail_user.uidvalidity()
    assert set(counts) == {f"imap:INBOX:{validity}:{uid}" for uid in range(1, MAILS + 1)}
    copies = {sid for sid, n in counts.items() if n > 1}
    assert len(copies) <= 50 and all(counts[sid] == 2 for sid in copies)  # at most the batch in flight
    ids = {sid: {b["message_id"] for b in bodies if b["payload"]["source_id"] == sid} for sid in copies}
    assert all(len(mids) == 1 for mids in ids.values())  # same message id: the dedupe key downstream
