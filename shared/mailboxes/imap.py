"""The IMAP adapter over imapclient: connecting (TLS before any credential), and the few UID
commands the sync needs. The connection factory is injectable (tests wrap it to cut connections or
let another client act mid-fetch)."""

from __future__ import annotations

import re
import select
import ssl
import threading
import time
from collections.abc import Callable, Iterable
from typing import Any

from imapclient import IMAPClient
from imapclient.exceptions import IMAPClientAbortError, IMAPClientError, LoginError

from shared.mailboxes import imapclient_shim
from shared.mailboxes.failures import FetchError, login_failed
from shared.mailboxes.mailconfig import ImapConfig
from shared.mailboxes.xoauth2 import XOAuth2Refused, imap_login
from shared.mailboxes.tlsctx import client_context
from shared.mailboxes.tlsmode import hinted
from shared.logging import get_logger

log = get_logger("postroom.fetcher.imap")
ClientFactory = Callable[..., Any]  # (host, port, *, ssl, ssl_context, timeout) -> IMAPClient
_CHANGES = {b"EXISTS", b"EXPUNGE", b"FETCH", b"RECENT", b"VANISHED"}


class ServerRefused(Exception):
    """A NO or BAD answer to one command: the connection itself is fine."""


def default_factory(host: str, port: int, *, ssl: bool, ssl_context: ssl.SSLContext | None,
                    timeout: float) -> IMAPClient:
    return IMAPClient(host, port=port, ssl=ssl, ssl_context=ssl_context, timeout=timeout)


def server_text(exc: BaseException) -> str:
    text = str(exc)
    match = re.fullmatch(r"b(['\"])(.*)\1", text, re.S)
    return match.group(2) if match else text


def open_imap(config: ImapConfig, password: str, factory: ClientFactory = default_factory,
              token: Callable[[], str] | None = None) -> Any:
    """Connect, secure and log in; a server that does not deliver the promised TLS never sees the password."""
    context = client_context(config.ca_file) if config.tls != "none" else None
    try:
        client = factory(config.host, config.resolved_port, ssl=config.tls == "implicit", ssl_context=context,
                         timeout=config.timeout)
    except OSError as exc:
        if (error := hinted(config, exc)) is None:
            raise
        raise error from exc
    imapclient_shim.quiet_trace(client)  # imaplib formats its trace whether or not it is logged
    try:
        if config.tls == "starttls":
            if not client.has_capability("STARTTLS"):
                raise FetchError("tls", f"{config.host} does not offer STARTTLS: not sending credentials in clear")
            try:
                client.starttls(context)
            except ssl.SSLError as exc:
                if (error := hinted(config, exc)) is None:
                    raise
                raise error from exc
        if token is not None:  # XOAUTH2: the token is fetched only now, after TLS is in place
            try:
                imap_login(client, config.user, token())
            except XOAuth2Refused as exc:
                raise FetchError("auth", str(exc)) from None
        else:
            try:
                client.login(config.user, password)
            except LoginError as exc:
                raise login_failed(server_text(exc), config.host) from None
    except BaseException:
        close_quietly(client)
        raise
    return client


def close_quietly(client: Any) -> None:
    try:
        client.logout()
    except Exception:
        try:
            client.shutdown()
        except Exception:
            pass


def sequence_set(low: int, high: int, exclude: Iterable[int] = ()) -> str:
    """UIDs ``low..high`` without ``exclude``, as an IMAP sequence set ("5:9,11:20")."""
    parts, start = [], low
    for uid in sorted(u for u in set(exclude) if low <= u <= high):
        if uid > start:
            parts.append(f"{start}:{uid - 1}" if uid - 1 > start else str(start))
        start = uid + 1
    if start <= high:
        parts.append(f"{start}:{high}" if high > start else str(start))
    return ",".join(parts)


class ImapFolder:
    """One selected folder; UID commands only (sequence numbers shift under other clients)."""

    def __init__(self, client: Any, folder: str, readonly: bool) -> None:
        self.client, self.folder, self.readonly = client, folder, readonly

    def select(self) -> tuple[int, int]:
        """Select the folder; return (UIDVALIDITY, UIDNEXT)."""
        answer = self._refusable(self.client.select_folder, self.folder, readonly=self.readonly)
        uidvalidity = int(answer[b"UIDVALIDITY"])
        uidnext = answer.get(b"UIDNEXT")
        if uidnext is None:  # optional before IMAP4rev2: derive it from the highest UID
            uidnext = max(self.client.search(["ALL"]) or [0]) + 1
        return uidvalidity, int(uidnext)

    def uids_after(self, uid: int) -> list[int]:
        # "n:*" always matches the highest UID even when it is below n (RFC 3501 6.4.8): filter.
        self._announced()  # forget earlier news: this search sees everything up to now
        found = sorted(u for u in self.client.search(["UID", f"{uid + 1}:*"]) if u > uid)
        log.debug("searched", folder=self.folder, after_uid=uid, found=len(found))
        return found

    def sizes(self, uids: list[int]) -> dict[int, int]:
        answer = self._refusable(self.client.fetch, uids, ["RFC822.SIZE"])
        return {uid: int(data.get(b"RFC822.SIZE", 0)) for uid, data in answer.items()}

    def fetch(self, uids: list[int]) -> dict[int, bytes]:
        """The raw mails of ``uids`` in one command; BODY.PEEK leaves \\Seen alone."""
        answer = self._refusable(self.client.fetch, uids, ["BODY.PEEK[]"])
        return {uid: data[b"BODY[]"] for uid, data in answer.items() if data.get(b"BODY[]") is not None}

    def existing(self, uids: list[int]) -> set[int]:
        self.client.noop()  # take in EXPUNGE news first
        return set(self.client.search(["UID", ",".join(map(str, uids))])) & set(uids) if uids else set()

    def mark_seen(self, uids: str) -> None:
        self._refusable(self.client.add_flags, uids, [b"\\Seen"], silent=True)

    def delete(self, uids: str) -> bool:
        """\\Deleted, then UID EXPUNGE of exactly these UIDs (RFC 4315): the \\Deleted mails of
        other clients stay. Without UIDPLUS the flag stays set and nothing is expunged."""
        self._refusable(self.client.add_flags, uids, [b"\\Deleted"], silent=True)
        if not self.client.has_capability("UIDPLUS"):
            return False
        self._refusable(self.client.uid_expunge, uids)
        return True

    def move(self, uids: str, target: str) -> bool:
        if self.client.has_capability("MOVE"):
            self._refusable(self.client.move, uids, target)
            return True
        self._refusable(self.client.copy, uids, target)
        return self.delete(uids)

    def can_idle(self) -> bool:
        return bool(self.client.has_capability("IDLE"))

    def idle(self, stop: threading.Event, seconds: float) -> bool:
        """IDLE (RFC 2177) until the folder changes, ``seconds`` pass or ``stop`` is set; return
        whether the server announced a change. A closed connection raises ``ConnectionError``."""
        if self._announced():
            return True  # a mail came during our last commands: IDLE would not announce it again
        self.client.idle()
        changed = False
        deadline = time.monotonic() + seconds
        sock = self.client.socket()
        # Wake four times a second to see ``stop``; a readable socket with no line means EOF.
        while not changed and not stop.is_set() and time.monotonic() < deadline:
            if imapclient_shim.buffered(self.client, sock):
                changed = True  # read (and discarded) by idle_done below; the sync finds out what came
                break
            if not select.select([sock], [], [], max(0.0, min(0.25, deadline - time.monotonic())))[0]:
                continue
            responses = self.client.idle_check(timeout=0)
            log.debug("IDLE answer", folder=self.folder, responses=repr(responses)[:200])
            if not responses:
                raise ConnectionError("the server closed the connection during IDLE")
            changed = any(len(r) > 1 and r[1] in _CHANGES for r in responses)
        self.client.idle_done()
        log.debug("IDLE done", folder=self.folder, changed=changed)
        return changed

    def _announced(self) -> bool:
        """Did the server announce new mail since the last call, inside another command's answer?"""
        return imapclient_shim.take_exists(self.client)

    def _refusable(self, method: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        try:
            return method(*args, **kwargs)
        except IMAPClientAbortError:
            raise
        except IMAPClientError as exc:
            raise ServerRefused(server_text(exc)) from None
