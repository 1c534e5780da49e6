"""Where the workload's mails arrive: a pluggable mailbox. A private Dovecot read over IMAP with IDLE
(Maildir files for bulk, IMAP APPEND for the steady run), or a drop folder."""

from __future__ import annotations

import os
import subprocess
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, Protocol

from tests.bench.workload import SUPPORT, Mail
from tests.support.dovecot import DOVECOT, DovecotServer


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

    def drop_connection(self) -> str | None:
        """Cut the fetcher's connection; say what was cut (None when the source has no connection)."""

    def close(self) -> None:
        """Stop whatever the source runs (a server)."""


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

    def drop_connection(self) -> str | None:
        return None

    def close(self) -> None:
        pass

    def pending(self) -> int:
        return sum(1 for p in self.inbox.iterdir() if not p.name.startswith("."))


class DovecotSource:
    """The bench account as a real IMAP account: a private Dovecot (own ports, own mail directory),
    read with IDLE and the mails deleted once published (``after_fetch: delete``: the mailbox drains
    as a production one does). Bulk mails are Maildir files (thousands in a second); steady ones are
    APPENDed over one connection kept open, each at its arrival time."""

    FOLDER = "INBOX"

    def __init__(self) -> None:
        if not Path(DOVECOT).exists():
            raise RuntimeError("Dovecot is not installed (Debian: apt-get install dovecot-imapd dovecot-pop3d); "
                               "or run with --source dropfolder")
        self.server = DovecotServer(pool=1).start()
        self.user = self.server.add_user()
        self.name = "Dovecot IMAP INBOX (IDLE, delete after fetch; bulk as Maildir files, steady by APPEND)"
        self._keys: dict[int, str] = {}  # UID -> workload key
        self._key_by_file: dict[str, str] = {}
        self._client: Any = None
        self._lock = threading.Lock()  # the delivering connection: the fault injector closes it too

    def account(self) -> dict[str, object]:
        return {"name": "bench", "kind": "imap", "host": "127.0.0.1", "port": self.server.imap_port, "tls": "none",
                "user": self.user.name, "password": self.user.password, "after_fetch": "delete",
                "existing_mail": "import",  # a workload loaded before the first sync is new mail all the same
                "address": SUPPORT, "project": "Bench", "item_type": "incident", "auto_reply": True}

    def load(self, mails: list[Mail]) -> float:
        names = self.user.deliver_maildir((m.key, m.raw) for m in mails)
        visible = time.time()
        self._key_by_file.update(zip(names, (m.key for m in mails), strict=True))
        with self._lock:
            # A SELECT makes Dovecot index the new files now (UIDs given, dovecot-uidlist written):
            # before the fetcher starts, every bulk mail gets its UID -> key entry here.
            client = self._session()
            client.select_folder(self.FOLDER, readonly=True)
            client.unselect_folder()  # no news of the fetcher's expunges piling up in this client
        self._learn_uids()
        return visible

    def deliver(self, mail: Mail) -> float:
        with self._lock:
            answer = self._session().append(self.FOLDER, mail.raw)
            at = time.time()
        # [APPENDUID <uidvalidity> <uid>] (RFC 4315)
        self._keys[int(answer.split(b"]")[0].split()[-1])] = mail.key
        return at

    def key_of(self, source_id: str) -> str | None:
        # "imap:<folder>:<uidvalidity>:<uid>" (services/fetcher/imap_sync.py)
        parts = source_id.split(":")
        if len(parts) != 4 or parts[0] != "imap" or not parts[3].isdigit():
            return None
        uid = int(parts[3])
        if uid not in self._keys:
            self._learn_uids()
        return self._keys.get(uid)

    def drop_connection(self) -> str | None:
        """Kick the account's IMAP sessions (``doveadm kick``) while the fetcher is reading: mail
        waiting and its session open (None, and nothing done, otherwise)."""
        with self._lock:
            if self._client is not None:  # ours would go too: let go of it first, reopened on next use
                _close(self._client)
                self._client = None
            waiting = self.pending()
            if not waiting or f"{self.user.name} " not in self._doveadm("who", "-1"):
                return None
            self._doveadm("kick", self.user.name)
        return f"the fetcher's IMAP session kicked mid-import ({waiting} mails still in the mailbox)"

    def pending(self) -> int:
        """Mails in the mailbox (not yet fetched and deleted), read from the Maildir."""
        return sum(len(os.listdir(self.user.maildir / sub)) for sub in ("new", "cur"))

    def close(self) -> None:
        with self._lock:
            if self._client is not None:
                _close(self._client)
                self._client = None
        self.server.stop()

    def _session(self) -> Any:
        if self._client is None:
            self._client = self.user.imap()
        return self._client

    def _learn_uids(self) -> None:
        for name, uid in self.user.uids_by_file().items():
            key = self._key_by_file.get(name)
            if key is not None:
                self._keys[uid] = key

    def _doveadm(self, *args: str) -> str:
        return subprocess.run(["doveadm", "-c", str(self.server.config), *args], capture_output=True, text=True,
                              timeout=30, check=True).stdout


def _close(client: Any) -> None:
    try:
        client.logout()
    except Exception:  # already cut
        try:
            client.shutdown()
        except OSError:
            pass


SOURCES = ("dovecot", "dropfolder")
POLL = 0.1  # the drop folder's poll interval in the runs


def source_factory(kind: str) -> tuple[Callable[[Path], MailSource], dict[str, str]]:
    """The run's mailbox by name, and the fetcher environment it wants."""
    if kind == "dropfolder":
        return (lambda work: DropFolderSource(work, POLL)), {"POSTROOM_POLL_INTERVAL": str(POLL),
                                                             "POSTROOM_SETTLE_SECONDS": "0"}
    if kind == "dovecot":
        return (lambda work: DovecotSource()), {}
    raise ValueError(f"unknown source {kind!r} (known: {', '.join(SOURCES)})")
