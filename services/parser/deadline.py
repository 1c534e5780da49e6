"""A time bound on one mail's parse, enforced in the thread that parses it.

The parser's handler runs in the broker's worker thread (``kombu_broker`` hands deliveries to a
``ThreadPoolExecutor``), where ``signal.alarm`` cannot reach: only the main thread receives
signals. The work to bound is the stdlib's pure-Python parse, with no place of ours to check a
clock in. So one watchdog thread raises ``TimeUp`` in the parsing thread when its time is up,
with ``PyThreadState_SetAsyncExc``: the exception is raised between two bytecodes, so a single
long C call (one regular expression, one ``bytes.find``) finishes first; the shape limits keep
those short.

``TimeUp`` is a ``BaseException``, like ``KeyboardInterrupt``: the parser records many failures
as defects with ``except Exception``, and none of those may swallow it. Python itself may: raised
in a weakref callback or a ``__del__`` run by the collector, it is reported and dropped. So the
watchdog raises it again every ``AGAIN`` seconds until the parse has stopped. Only the pure parse
runs under the bound, never a write to the blob store, so an interruption leaves nothing half done.
"""

from __future__ import annotations

import ctypes
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import ParamSpec, TypeVar

from shared.errors import Reject

AGAIN = 0.05  # seconds between two raises of the same TimeUp

P = ParamSpec("P")
T = TypeVar("T")


class TimeUp(BaseException):
    """Raised in a parsing thread whose time is up; only ``within`` catches it."""


def within(seconds: float, fn: Callable[P, T], *args: P.args, **kwargs: P.kwargs) -> T:
    """``fn(*args, **kwargs)``, or ``Reject`` when it runs longer than ``seconds``."""
    token = object()  # made before arming: a TimeUp raised as arm returns still finds it
    try:
        try:
            _WATCHDOG.arm(token, threading.get_ident(), time.monotonic() + seconds)
            return fn(*args, **kwargs)
        finally:
            _WATCHDOG.disarm(token)  # clears a TimeUp that is pending and not raised yet
    except TimeUp:
        while True:  # one more may come before the watchdog lets go of this thread
            try:
                _WATCHDOG.disarm(token)
                break
            except TimeUp:
                continue
        raise Reject(f"parsing took longer than {seconds:g} s, the limit") from None


@dataclass
class _Armed:
    thread: int
    deadline: float
    fired: bool = False


class _Watchdog:
    def __init__(self) -> None:
        self._cond = threading.Condition()
        self._armed: dict[object, _Armed] = {}
        self._thread: threading.Thread | None = None

    def arm(self, token: object, thread: int, deadline: float) -> None:
        with self._cond:
            self._armed[token] = _Armed(thread, deadline)
            if self._thread is None:  # started on first use: importing this module starts nothing
                self._thread = threading.Thread(target=self._watch, name="parser-deadline", daemon=True)
                self._thread.start()
            self._cond.notify()

    def disarm(self, token: object) -> None:
        with self._cond:
            armed = self._armed.pop(token, None)
            if armed is not None and armed.fired:
                _raise_in(armed.thread, None)

    def _watch(self) -> None:
        with self._cond:
            while True:
                now = time.monotonic()
                for armed in self._armed.values():
                    if armed.deadline <= now:  # due, or raised before and still running
                        armed.fired, armed.deadline = True, now + AGAIN
                        _raise_in(armed.thread, TimeUp)
                waiting = [a.deadline for a in self._armed.values()]
                self._cond.wait(min(waiting) - now if waiting else None)


def _raise_in(thread: int, exc: type[BaseException] | None) -> None:
    """Raise ``exc`` in ``thread`` at its next bytecode; None clears one not raised yet."""
    ctypes.pythonapi.PyThreadState_SetAsyncExc(ctypes.c_ulong(thread),
                                               ctypes.py_object(exc) if exc is not None else None)


_WATCHDOG = _Watchdog()
