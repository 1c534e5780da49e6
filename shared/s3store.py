"""The blob store on S3-compatible object storage (AWS S3, MinIO, Ceph RGW, moto's server in tests).

Same keys and contract as the filesystem store: a blob is durable when ``put`` returns (S3 answers a
PUT only once the object is stored whole; no reader ever sees half an object), and storing the same
bytes twice is harmless (the key is the content hash, and a present object is not written again).
Objects are at ``<prefix><first two hex>/<next two>/<sha256>``, as the filesystem store's paths.
A big attachment arrives a piece at a time (``put_chunks``): it is spooled to a temporary file while
hashed (its key is known only at the end), then uploaded in parts by boto3's transfer manager.
"""

from __future__ import annotations

import hashlib
import tempfile
from collections.abc import Iterable
from typing import Any

from shared.contracts.common import BlobRef
from shared.store import BlobNotFound

_SPOOL_IN_MEMORY = 8 * 1024 * 1024


class S3BlobStore:
    def __init__(self, client: Any, bucket: str, prefix: str = "") -> None:
        self.client, self.bucket = client, bucket
        self.prefix = prefix.strip("/") + "/" if prefix.strip("/") else ""

    def _object(self, key: str) -> str:
        digest = key.removeprefix("sha256:")
        if len(digest) != 64 or not all(c in "0123456789abcdef" for c in digest):
            raise BlobNotFound(f"not a blob key: {key!r}")
        return f"{self.prefix}{digest[:2]}/{digest[2:4]}/{digest}"

    def put(self, data: bytes) -> BlobRef:
        digest = hashlib.sha256(data).hexdigest()
        ref = BlobRef(key=f"sha256:{digest}", size=len(data), sha256=digest)
        if not self.exists(ref.key):
            self.client.put_object(Bucket=self.bucket, Key=self._object(ref.key), Body=data,
                                   ContentType="application/octet-stream")
        return ref

    def put_chunks(self, chunks: Iterable[bytes]) -> BlobRef:
        digest, size = hashlib.sha256(), 0
        with tempfile.SpooledTemporaryFile(max_size=_SPOOL_IN_MEMORY) as spool:
            for chunk in chunks:
                digest.update(chunk)
                size += len(chunk)
                spool.write(chunk)
            ref = BlobRef(key=f"sha256:{digest.hexdigest()}", size=size, sha256=digest.hexdigest())
            if not self.exists(ref.key):
                spool.seek(0)
                self.client.upload_fileobj(spool, self.bucket, self._object(ref.key),
                                           ExtraArgs={"ContentType": "application/octet-stream"})
        return ref

    def get(self, key: str) -> bytes:
        try:
            answer = self.client.get_object(Bucket=self.bucket, Key=self._object(key))
        except self.client.exceptions.NoSuchKey:
            raise BlobNotFound(key) from None
        data: bytes = answer["Body"].read()
        return data

    def delete(self, key: str) -> None:
        """Remove a blob (retention); a missing one is no error (S3's DELETE is idempotent)."""
        self.client.delete_object(Bucket=self.bucket, Key=self._object(key))

    def exists(self, key: str) -> bool:
        from botocore.exceptions import ClientError

        try:
            self.client.head_object(Bucket=self.bucket, Key=self._object(key))
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") in {"404", "NoSuchKey", "NotFound"}:
                return False
            raise
        return True
