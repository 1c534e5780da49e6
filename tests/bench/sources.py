"""Where the workload's mails arrive: a pluggable mailbox. The drop folder today; a Dovecot IMAP
mailbox (Maildir files for bulk, IMAP APPEND for the steady run) plugs in behind the same protocol
once the IMAP fetcher is on main."""

from __future__ import annotations

import os
import time
from pathlib import Path
from typing import Protocol

from tests.bench.workload import SUPPORT, Mail


class MailSource(Protocol):
    name: str  # shown in the report, e.g. "drop folder (poll 0.1 s)"

    def account(self) -> dict[str, object]:
        """The account spec (as in accounts.yaml) the fetcher reads this source through."""

    def load(self, mails: list[Mail]) -> float:
        """Make all ``mails`` visible at once (bulk); return when they became visible (time.time())."""

    def deliver(self, mail: Mail) -> float:
        """Make one mail visible now; return when it did (time.time())."""

    def key_of(self, source_id: str) -> str | None:
        """The workload key of a fetched mail, from its ``source_id`` (to name dead letters)."""

    def drop_connection(self) -> bool:
        """Cut the fetcher's connection mid-batch; False when the source has none (a folder)."""


class DropFolderSource:
    def __init__(self, root: Path, poll_interval: float) -> None:
        self.inbox, self.staging = root / "inbox", root / "staging"
        self.inbox.mkdir(parents=True, exist_ok=True)
        self.staging.mkdir(parents=True, exist_ok=True)
        self.name = f"drop folder (poll every {poll_interval:g} s)"

    def account(self) -> dict[str, object]:
        return {"name": "bench", "kind": "dropfolder", "path": str(self.inbox), "address": SUPPORT,
                "project": "Bench", "item_type": "incident", "auto_reply": True}

    def load(self, mails: list[Mail]) -> float:
        # Written aside first, then renamed in: the fetcher never sees half of the batch for long.
        for mail in mails:
            (self.staging / mail.key).write_bytes(mail.raw)
        for mail in mails:
            os.rename(self.staging / mail.key, self.inbox / mail.key)
        return time.time()

    def deliver(self, mail: Mail) -> float:
        tmp = self.inbox / f".{mail.key}"
        tmp.write_bytes(mail.raw)
        tmp.rename(self.inbox / mail.key)  # atomic, as an MTA delivers
        return time.time()

    def key_of(self, source_id: str) -> str | None:
        # "file:<name>:<hash>" (services/fetcher/dropfolder.py)
        parts = source_id.split(":")
        return parts[1] if len(parts) == 3 and parts[0] == "file" else None

    def drop_connection(self) -> bool:
        return False

    def pending(self) -> int:
        return sum(1 for p in self.inbox.iterdir() if not p.name.startswith("."))
