"""The blob store on S3-compatible object storage (moto's real HTTP server): the same contract as the
filesystem store, and the whole pipeline keeping raw mail and attachments there."""

from __future__ import annotations

import hashlib
import os
import uuid

import pytest

from shared.settings import CommonSettings
from shared.store import BlobNotFound, FilesystemBlobStore, store_from
from tests.support.s3 import S3Server


@pytest.fixture
def s3_store(s3_server: S3Server, monkeypatch: pytest.MonkeyPatch):  # type: ignore[no-untyped-def]
    bucket = s3_server.bucket(f"postroom-{uuid.uuid4().hex[:12]}")
    for name, value in s3_server.env(bucket).items():
        monkeypatch.setenv(name, value)
    return store_from(CommonSettings())


def test_a_blob_put_is_read_back_by_its_content_key_the_filesystem_store_would_give(s3_store, tmp_path) -> None:
    data = b"From: a@example.com\r\n\r\nhello\r\n"
    ref = s3_store.put(data)
    assert ref == FilesystemBlobStore(tmp_path).put(data)
    assert s3_store.get(ref.key) == data and s3_store.exists(ref.key)
    assert s3_store.put(data) == ref  # the same bytes again: harmless


def test_a_big_blob_in_pieces_is_uploaded_in_parts_and_read_back_whole(s3_store) -> None:
    piece = os.urandom(1024 * 1024)
    ref = s3_store.put_chunks(piece for _ in range(20))  # 20 MB: spooled to disk, multipart upload
    assert ref.size == 20 * len(piece) and ref.sha256 == hashlib.sha256(piece * 20).hexdigest()
    assert s3_store.get(ref.key) == piece * 20


def test_a_missing_or_malformed_key_is_blob_not_found(s3_store) -> None:
    with pytest.raises(BlobNotFound):
        s3_store.get("sha256:" + "0" * 64)
    assert not s3_store.exists("sha256:" + "0" * 64)
    with pytest.raises(BlobNotFound):
        s3_store.get("../../etc/passwd")


def test_a_store_url_that_is_not_s3_is_refused_naming_the_setting(monkeypatch: pytest.MonkeyPatch) -> None:
    from pydantic import ValidationError

    monkeypatch.setenv("POSTROOM_STORE_URL", "ftp://bucket")
    with pytest.raises(ValidationError, match="POSTROOM_STORE_URL must be empty"):
        CommonSettings()
