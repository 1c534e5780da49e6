"""A local drop folder as a mailbox: each regular file is one raw mail (an MTA or a person puts it
there). A file is taken once it has settled, and deleted only after it is stored and published."""

from __future__ import annotations

import hashlib
from pathlib import Path

from shared.broker.port import Broker, PublishFailed
from shared.logging import get_logger
from shared.store import BlobStore
from services.fetcher.ingest import ingest_raw
from shared.mailboxes.dropfiles import ready_files

log = get_logger("postroom.fetcher.dropfolder")


def fetch_folder(account: str, folder: Path, store: BlobStore, broker: Broker, settle_seconds: float) -> int:
    """Ingest every settled file of ``folder``; return how many were published."""
    folder.mkdir(parents=True, exist_ok=True)
    done = 0
    for path in ready_files(folder, settle_seconds):
        try:
            raw = path.read_bytes()
        except OSError as exc:
            log.warning("cannot read file", account=account, file=path.name, error=str(exc))
            continue
        source_id = f"file:{path.name}:{hashlib.sha256(raw).hexdigest()[:16]}"
        try:
            ingest_raw(account=account, source="dropfolder", source_id=source_id, raw=raw, store=store,
                       broker=broker)
        except (PublishFailed, OSError) as exc:
            log.warning("not published; the file stays for the next poll", account=account, file=path.name,
                        error=str(exc))
            return done
        path.unlink(missing_ok=True)
        done += 1
        log.info("fetched", account=account, file=path.name, source_id=source_id, size=len(raw))
    return done
