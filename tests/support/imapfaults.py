"""A real IMAPClient behind a proxy that lets a test act at a chosen moment: before the n-th call of
a method (cut the connection, let another client expunge), or once IDLE is under way. Everything
else goes to the real server unchanged."""

from __future__ import annotations

import socket
import threading
from collections import Counter
from collections.abc import Callable
from typing import Any

from imapclient.exceptions import IMAPClientError

from shared.mailboxes.imap import default_factory

Hook = Callable[["ClientProxy", tuple[Any, ...]], None]


class ClientProxy:
    def __init__(self, real: Any, factory: FaultyFactory) -> None:
        self._real, self._factory = real, factory

    def __getattr__(self, name: str) -> Any:
        attr = getattr(self._real, name)
        if not callable(attr):
            return attr

        def call(*args: Any, **kwargs: Any) -> Any:
            self._factory.before(self, name, args)
            result = attr(*args, **kwargs)
            if name == "idle":
                self._factory.idling.set()
            return result
        return call

    def cut(self) -> None:
        """The network goes away under the client (as a dropped TCP connection would)."""
        self._real.socket().shutdown(socket.SHUT_RDWR)


class FaultyFactory:
    """An ``imap_factory`` for ``bootstrap.build``; hooks are keyed by (method, n-th call counted
    over all connections) and run once, before the real call."""

    def __init__(self) -> None:
        self.hooks: dict[tuple[str, int], Hook] = {}
        self.calls: Counter[str] = Counter()
        self.idling = threading.Event()
        self.connections = 0
        self.refused_uids: set[int] = set()  # FETCH of these bodies answers NO, every time
        self._lock = threading.Lock()

    def on(self, method: str, nth: int, hook: Hook) -> None:
        self.hooks[(method, nth)] = hook

    def before(self, proxy: ClientProxy, name: str, args: tuple[Any, ...]) -> None:
        with self._lock:
            self.calls[name] += 1
            hook = self.hooks.pop((name, self.calls[name]), None)
        if hook is not None:
            hook(proxy, args)
        if name == "fetch" and "BODY.PEEK[]" in args[1] and self.refused_uids & set(args[0]):
            raise IMAPClientError("FETCH failed: [SERVERBUG] Internal error (simulated)")

    def __call__(self, *args: Any, **kwargs: Any) -> ClientProxy:
        self.connections += 1
        return ClientProxy(default_factory(*args, **kwargs), self)
