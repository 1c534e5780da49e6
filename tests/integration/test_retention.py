"""Retention on a real database and blob store: the files of long-closed items and old raw mail are
let go, a blob another item still needs stays, old fetch dedup records are pruned, a dry run changes
nothing, and the API then says the bytes are gone."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from sqlalchemy import select, update

from services.app import retention
from services.app.attachments import attachment
from services.app.errors import NotFound
from shared.db.engine import transaction
from shared.db.models import FetchedDigest, Item, ItemAttachment, ItemEvent, ItemMail, utcnow
from shared.store import FilesystemBlobStore
from tests.support.items import add_account, handle, mail


def _with_file(sessions, store, number: int, data: bytes) -> str:  # type: ignore[no-untyped-def]
    ref = store.put(data)
    raw = store.put(b"raw mail of #%d" % number)
    with transaction(sessions) as session:
        item = session.scalars(select(Item).where(Item.number == number)).one()
        row = session.scalars(select(ItemMail).where(ItemMail.item_id == item.id)).one()
        row.raw_key = raw.key
        session.add(ItemAttachment(item_id=item.id, mail_id=row.id, filename="log.txt", content_type="text/plain",
                                   size=ref.size, sha256=ref.sha256, blob_key=ref.key))
    return raw.key


def test_the_files_of_a_long_closed_item_go_and_a_shared_blob_stays(sessions, tmp_path: Path) -> None:
    store = FilesystemBlobStore(tmp_path / "store")
    add_account(sessions)
    closed = handle(sessions, mail(sender="a@customer.example", subject="old")).item.number
    open_ = handle(sessions, mail(sender="b@customer.example", subject="new")).item.number
    closed_raw = _with_file(sessions, store, closed, b"only in the closed item")
    _with_file(sessions, store, open_, b"shared log")
    shared = store.put(b"shared log")
    with transaction(sessions) as session:
        item = session.scalars(select(Item).where(Item.number == closed)).one()
        session.add(ItemAttachment(item_id=item.id, mail_id=item.mails[0].id, filename="shared.txt",
                                   content_type="text/plain", size=shared.size, sha256=shared.sha256,
                                   blob_key=shared.key))
        session.execute(update(Item).where(Item.number == closed).values(
            status="closed", updated_at=utcnow() - timedelta(days=40)))
        session.add(FetchedDigest(account="support", sha256="d" * 64, fetched_at=utcnow() - timedelta(days=400)))
        session.add(FetchedDigest(account="support", sha256="e" * 64, fetched_at=utcnow()))
    policy = retention.Policy(closed_days=30, digest_days=180)

    with sessions() as session:  # a dry run: the report, and nothing changed
        with session.begin():
            dry = retention.run(session, policy)
            session.rollback()
    assert (dry.raw_mails, dry.attachments, dry.digests_pruned) == (1, 2, 1)
    with transaction(sessions) as session:
        report = retention.run(session, policy)
    retention.delete_blobs(store, report)

    assert report.deletable == sorted([closed_raw, store.put(b"only in the closed item").key])
    assert store.exists(shared.key), "the open item still needs the shared log"
    assert not store.exists(closed_raw)
    with sessions() as session:
        item = session.scalars(select(Item).where(Item.number == closed)).one()
        assert [a.blob_key for a in item.attachments] == [None, None]
        assert session.scalar(select(ItemEvent.action).where(ItemEvent.item_id == item.id)) == "files-removed"
        assert session.scalars(select(FetchedDigest.sha256)).all() == ["e" * 64]
        try:
            attachment(session, store, item, item.attachments[0].id)
            raise AssertionError("a removed attachment must not be served")
        except NotFound as exc:
            assert "not saved" in exc.message or "removed" in exc.message


def test_raw_mail_past_its_days_goes_from_any_item(sessions, tmp_path: Path) -> None:
    store = FilesystemBlobStore(tmp_path / "store")
    add_account(sessions)
    number = handle(sessions, mail(sender="a@customer.example")).item.number
    raw = _with_file(sessions, store, number, b"log")
    with transaction(sessions) as session:
        session.execute(update(ItemMail).values(created_at=utcnow() - timedelta(days=100)))
    with transaction(sessions) as session:
        report = retention.run(session, retention.Policy(raw_days=90, digest_days=0))
    retention.delete_blobs(store, report)
    assert report.raw_mails == 1 and report.deletable == [raw] and not store.exists(raw)
    with sessions() as session:
        assert session.scalar(select(ItemAttachment.blob_key)) is not None, "attachments of an open item stay"


def test_the_retention_command_reports_and_a_dry_run_changes_nothing(sessions, database_url, tmp_path) -> None:
    from tests.support.cli import postroom

    add_account(sessions)
    number = handle(sessions, mail(sender="a@customer.example")).item.number
    store = FilesystemBlobStore(tmp_path / "store")
    raw = _with_file(sessions, store, number, b"log")
    with transaction(sessions) as session:
        session.execute(update(ItemMail).values(created_at=utcnow() - timedelta(days=100)))
    env = {"DATABASE_URL": database_url, "POSTROOM_STORE_DIR": str(tmp_path / "store")}
    dry = postroom(env, "retention", "run", "--raw-days", "90", "--dry-run")
    assert dry.exit_code == 0 and dry.output.startswith("dry run: raw mail let go: 1"), dry.output
    assert store.exists(raw)
    done = postroom(env, "retention", "run", "--raw-days", "90")
    assert done.exit_code == 0 and "blobs deleted from the store: 1" in done.output, done.output
    assert not store.exists(raw)
