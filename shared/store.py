"""The blob store: raw mail and attachments kept once, found by a content key (claim check).

The filesystem store is the default; ``store_from`` gives the S3-compatible one (shared/s3store.py)
when ``POSTROOM_STORE_URL`` names a bucket. A blob is durable when ``put`` returns: written to a temporary
file, fsynced, renamed into place and the directory fsynced, so a crash never leaves half a mail
under a real key. Keys are content hashes, so storing the same bytes twice is harmless.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
from collections.abc import Iterable
from pathlib import Path
from typing import Any, Protocol

from shared.contracts.common import BlobRef


class BlobNotFound(Exception):
    pass


class BlobStore(Protocol):
    def put(self, data: bytes) -> BlobRef: ...
    def put_chunks(self, chunks: Iterable[bytes]) -> BlobRef: ...
    def get(self, key: str) -> bytes: ...
    def exists(self, key: str) -> bool: ...
    def delete(self, key: str) -> None: ...


class FilesystemBlobStore:
    def __init__(self, root: Path) -> None:
        self.root = Path(root)

    def _path(self, key: str) -> Path:
        digest = key.removeprefix("sha256:")
        if len(digest) != 64 or not all(c in "0123456789abcdef" for c in digest):
            raise BlobNotFound(f"not a blob key: {key!r}")
        return self.root / digest[:2] / digest[2:4] / digest

    def put(self, data: bytes) -> BlobRef:
        digest = hashlib.sha256(data).hexdigest()
        ref = BlobRef(key=f"sha256:{digest}", size=len(data), sha256=digest)
        path = self._path(ref.key)
        if path.exists() and path.stat().st_size == len(data):
            return ref
        _make_dirs(path.parent)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-")
        try:
            with os.fdopen(fd, "wb") as fh:
                fh.write(data)
                fh.flush()
                os.fsync(fh.fileno())
            os.replace(tmp, path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
        _fsync_dir(path.parent)
        return ref

    def put_chunks(self, chunks: Iterable[bytes]) -> BlobRef:
        """``put`` for bytes that come a piece at a time (a big attachment as it is decoded), so
        they are never all in memory. The key is known at the end: the temporary file is written
        at the root, then renamed into place."""
        _make_dirs(self.root)
        fd, tmp = tempfile.mkstemp(dir=self.root, prefix=".tmp-")
        try:
            digest, size = hashlib.sha256(), 0
            with os.fdopen(fd, "wb") as fh:
                for chunk in chunks:
                    digest.update(chunk)
                    size += len(chunk)
                    fh.write(chunk)
                fh.flush()
                os.fsync(fh.fileno())
            ref = BlobRef(key=f"sha256:{digest.hexdigest()}", size=size, sha256=digest.hexdigest())
            path = self._path(ref.key)
            if path.exists() and path.stat().st_size == size:
                Path(tmp).unlink()
                return ref
            _make_dirs(path.parent)
            os.replace(tmp, path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
        _fsync_dir(path.parent)
        return ref

    def get(self, key: str) -> bytes:
        try:
            return self._path(key).read_bytes()
        except FileNotFoundError:
            raise BlobNotFound(key) from None

    def exists(self, key: str) -> bool:
        return self._path(key).exists()

    def delete(self, key: str) -> None:
        """Remove a blob (retention); a missing one is no error."""
        self._path(key).unlink(missing_ok=True)


def store_from(settings: Any) -> BlobStore:
    """The configured store: S3-compatible object storage for ``store_url = s3://bucket[/prefix]``,
    else the filesystem at ``resolved_store_dir``."""
    if not settings.store_url:
        return FilesystemBlobStore(settings.resolved_store_dir)
    import boto3

    from shared.s3store import S3BlobStore

    bucket, _, prefix = settings.store_url.removeprefix("s3://").partition("/")
    client = boto3.client("s3", endpoint_url=settings.s3_endpoint_url or None, region_name=settings.s3_region,
                          aws_access_key_id=settings.s3_access_key_id or None,
                          aws_secret_access_key=settings.s3_secret_access_key or None)
    return S3BlobStore(client, bucket, prefix)


def _make_dirs(path: Path) -> None:
    """``mkdir -p``, each directory it creates made durable in its parent: a blob whose shard
    directory a crash forgot would be lost with the mail already released on the server."""
    if path.is_dir():
        return
    _make_dirs(path.parent)
    try:
        path.mkdir()
    except FileExistsError:  # another writer just made it, perhaps not yet durable
        pass
    _fsync_dir(path.parent)


def _fsync_dir(path: Path) -> None:
    dir_fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(dir_fd)
    finally:
        os.close(dir_fd)
