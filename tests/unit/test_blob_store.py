"""The filesystem blob store: the streaming put gives the same blob as ``put``, nothing is left
half-written, and every directory it creates is made durable in its parent."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from shared.store import FilesystemBlobStore

DATA = bytes(range(256)) * 4096


def _pieces(data: bytes, size: int) -> Iterator[bytes]:
    for at in range(0, len(data), size):
        yield data[at:at + size]


def test_bytes_put_in_chunks_are_the_same_blob_as_bytes_put_whole(tmp_path: Path) -> None:
    """Key, size and hash match ``put``; the stored bytes are the input's."""
    chunked, whole = FilesystemBlobStore(tmp_path / "a"), FilesystemBlobStore(tmp_path / "b")
    ref = chunked.put_chunks(_pieces(DATA, 10_000))
    assert ref == whole.put(DATA)
    assert chunked.get(ref.key) == DATA


def test_a_blob_put_again_in_chunks_is_stored_once(tmp_path: Path) -> None:
    """A second put of the same bytes leaves one file and no temporary one."""
    store = FilesystemBlobStore(tmp_path)
    first, second = store.put(DATA), store.put_chunks(_pieces(DATA, 7))
    assert first == second
    assert [p.name for p in tmp_path.rglob("*") if p.is_file()] == [first.sha256]


def test_a_source_that_fails_midway_leaves_nothing_behind(tmp_path: Path) -> None:
    """The error reaches the caller and no temporary file stays in the store."""
    def failing() -> Iterator[bytes]:
        yield DATA[:1000]
        raise OSError("source gone")

    store = FilesystemBlobStore(tmp_path)
    with pytest.raises(OSError, match="source gone"):
        store.put_chunks(failing())
    assert not [p for p in tmp_path.rglob("*") if p.is_file()]


@pytest.mark.parametrize("how", ["put", "put_chunks"])
def test_every_directory_a_put_creates_is_fsynced_in_its_parent(tmp_path: Path, how: str,
                                                               monkeypatch: pytest.MonkeyPatch) -> None:
    """A crash must not forget a new shard directory, or the blob in it, once ``put`` returned."""
    synced: set[int] = set()
    real_fsync = os.fsync

    def recording_fsync(fd: int) -> None:
        synced.add(os.fstat(fd).st_ino)
        real_fsync(fd)

    monkeypatch.setattr(os, "fsync", recording_fsync)
    store = FilesystemBlobStore(tmp_path / "blobs")
    ref = store.put(DATA) if how == "put" else store.put_chunks(_pieces(DATA, 4096))
    blob = tmp_path / "blobs" / ref.sha256[:2] / ref.sha256[2:4] / ref.sha256
    assert store.get(ref.key) == DATA and blob.is_file()
    parents = [tmp_path, tmp_path / "blobs", blob.parent.parent, blob.parent]
    assert {p.stat().st_ino for p in parents} <= synced
    assert blob.stat().st_ino in synced
