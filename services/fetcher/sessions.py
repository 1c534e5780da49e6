"""A mailbox session per account kind, as the worker sees it: ``sync`` reads what is new, ``wait``
returns when there may be more (IMAP IDLE, or a poll interval), ``close`` lets go of the server."""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from services.fetcher.dropfolder import fetch_folder
from shared.mailboxes.imap import ImapFolder, close_quietly
from services.fetcher.imap_sync import ImapSync
from shared.mailboxes.pop3 import Pop3Mailbox
from services.fetcher.pop3_sync import Pop3Sync
from shared.broker.port import Broker
from shared.store import BlobStore


class MailboxSession(Protocol):
    def sync(self, stop: threading.Event) -> int: ...
    def wait(self, stop: threading.Event) -> None: ...
    def close(self) -> None: ...

    @property
    def longest_wait(self) -> float:
        """The longest ``wait`` may last with nothing wrong: how stale a success may get."""
        ...


# While mail flows, look again this soon instead of IDLE: servers gather changes before they
# announce them (Dovecot waits 0.5 s after a change, NOTIFY_DELAY_MSECS in mailbox-watch.c).
FLOWING_RECHECK = 0.05


@dataclass
class ImapSession:
    client: Any
    folder: ImapFolder
    syncer: ImapSync
    reidle_after: float  # RFC 2177: re-issue IDLE at least every 29 minutes
    _flowing: bool = False  # the last sync published mail: more is likely on its way

    def sync(self, stop: threading.Event) -> int:
        count = self.syncer.run(stop)
        self._flowing = count > 0
        return count

    def wait(self, stop: threading.Event) -> None:
        if self._flowing:
            stop.wait(FLOWING_RECHECK)
        elif self.syncer.config.idle and self.folder.can_idle():
            # A mail waiting for another attempt is retried after poll_interval, news or not.
            retry = self.syncer.retries_pending()
            self.folder.idle(stop, min(self.reidle_after, self.syncer.config.poll_interval) if retry else
                             self.reidle_after)
        else:
            stop.wait(self.syncer.config.poll_interval)

    def close(self) -> None:
        close_quietly(self.client)

    @property
    def longest_wait(self) -> float:
        # An IDLE that holds is a working fetch: a new mail would end it. It is renewed (and a sync
        # follows) every reidle_after at the latest.
        if self.syncer.config.idle and self.folder.can_idle():
            return max(self.reidle_after, self.syncer.config.poll_interval)
        return self.syncer.config.poll_interval


@dataclass
class Pop3Session:
    """POP3 locks the maildrop for the length of a session: connect per sync, QUIT at its end."""

    connect: Callable[[], Pop3Mailbox]
    syncer: Pop3Sync

    def sync(self, stop: threading.Event) -> int:
        mailbox = self.connect()
        try:
            count = self.syncer.run(mailbox, stop)
            mailbox.quit()
            return count
        finally:
            mailbox.close()

    def wait(self, stop: threading.Event) -> None:
        stop.wait(self.syncer.config.poll_interval)

    def close(self) -> None:
        pass

    @property
    def longest_wait(self) -> float:
        return self.syncer.config.poll_interval


@dataclass
class DropFolderSession:
    account: str
    path: Path
    store: BlobStore
    broker: Broker
    settle_seconds: float
    poll_interval: float

    def sync(self, stop: threading.Event) -> int:
        return fetch_folder(self.account, self.path, self.store, self.broker, self.settle_seconds)

    def wait(self, stop: threading.Event) -> None:
        stop.wait(self.poll_interval)

    def close(self) -> None:
        pass

    @property
    def longest_wait(self) -> float:
        return self.poll_interval
