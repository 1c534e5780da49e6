"""A drop folder's mails: each regular file that has settled (an MTA or a person put it there), oldest
first; names a writer is still filling (dot files, .tmp, .part, .swp) are left alone."""

from __future__ import annotations

import time
from pathlib import Path

_SKIP_SUFFIXES = (".tmp", ".part", ".swp")


def ready_files(folder: Path, settle_seconds: float) -> list[Path]:
    now = time.time()
    found = []
    for path in folder.iterdir():
        if path.name.startswith(".") or path.name.endswith(_SKIP_SUFFIXES):
            continue
        try:
            stat = path.stat()
        except FileNotFoundError:
            continue
        if path.is_file() and now - stat.st_mtime >= settle_seconds:
            found.append((stat.st_mtime, path.name, path))
    return [p for _, _, p in sorted(found)]
