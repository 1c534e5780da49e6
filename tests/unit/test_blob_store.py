"""The filesystem blob store's streaming put: the same blob as ``put``, and nothing half-written."""

from __future__ import annotations

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
