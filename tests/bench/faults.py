"""The fault injector: for a bounded time, SIGKILL a random service every few seconds, restart the
broker once and the database once, each when a given share of the run's mails is stored (so they
fall mid-run however fast the pipeline is), and cut the mailbox connection (where the source has
one) while the fetcher is reading a batch just loaded.

Each fault is recorded with its time. A service that dies by itself (it cannot reach the broker
at start, say) is started again, as a supervisor (systemd, Kubernetes) would; those are counted.
"""

from __future__ import annotations

import random
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from tests.bench.stack import SERVICES, Stack


@dataclass
class Plan:
    seconds: float = 60.0  # faults stop after this long
    kill_every: tuple[float, float] = (2.0, 5.0)  # seconds between two SIGKILLs (uniform)
    down_for: tuple[float, float] = (0.2, 1.5)  # how long a killed service stays down
    broker_at: float | None = 0.25  # share of the mails stored when the broker restarts (None: never)
    database_at: float | None = 0.55  # the same for the database
    connection_drops: int = 2  # mailbox connection cuts, one per load at most (when the source has a connection)
    seed: int = 10


@dataclass
class Injector:
    stack: Stack
    plan: Plan
    restart_broker: Callable[[], float] | None
    restart_database: Callable[[], float] | None
    drop_connection: Callable[[], str | None]
    progress: Callable[[], float] = lambda: 0.0  # share of the run's mails stored so far
    events: list[tuple[float, str]] = field(default_factory=list)
    supervisor_restarts: int = 0
    _drops_armed: int = 0
    _held_down: set[str] = field(default_factory=set)
    _stop: threading.Event = field(default_factory=threading.Event)
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _thread: threading.Thread | None = None

    def start(self) -> Injector:
        self._thread = threading.Thread(target=self._run, name="faults", daemon=True)
        self._thread.start()
        return self

    def join(self) -> None:
        if self._thread is not None:
            self._thread.join()

    def stop(self) -> None:
        self._stop.set()
        self.join()

    def _note(self, what: str) -> None:
        self.events.append((time.time(), what))
        print(f"  fault {time.strftime('%H:%M:%S')}: {what}", flush=True)

    def supervise(self) -> None:
        """Start again any service that is neither running nor held down by a fault."""
        with self._lock:
            for name in SERVICES:
                if name not in self._held_down and not self.stack.alive(name):
                    self.stack.procs.pop(name, None)
                    self.stack.start(name)
                    self.supervisor_restarts += 1
                    self._note(f"{name} had exited by itself: started again")

    def _run(self) -> None:
        rng = random.Random(self.plan.seed)
        ends = time.monotonic() + self.plan.seconds
        once = {"broker": self.plan.broker_at, "database": self.plan.database_at}
        while not self._stop.is_set() and time.monotonic() < ends:
            self._kill_one(rng)
            next_kill = time.monotonic() + rng.uniform(*self.plan.kill_every)
            while not self._stop.is_set() and time.monotonic() < min(next_kill, ends):
                self._restart_due(once)
                self._stop.wait(0.25)
        self._note("faults over")

    def _restart_due(self, once: dict[str, float | None]) -> None:
        for what, at in list(once.items()):
            if at is not None and self.progress() >= at:
                once[what] = None
                self._restart_server(what)

    def drop_while_reading(self, within: float = 10.0) -> None:
        """Right after a load: cut the mailbox connection once the fetcher is reading it (mail
        waiting and a session open), at most ``plan.connection_drops`` times in the run."""
        if self._drops_armed >= self.plan.connection_drops:
            return
        self._drops_armed += 1

        def drop() -> None:
            deadline = time.monotonic() + within
            self._stop.wait(random.Random(self.plan.seed + self._drops_armed).uniform(0.3, 1.5))
            while not self._stop.is_set() and time.monotonic() < deadline:
                if (what := self.drop_connection()) is not None:
                    self._note(f"mailbox connection dropped: {what}")
                    return
                self._stop.wait(0.1)
        threading.Thread(target=drop, name="drop-connection", daemon=True).start()

    def _kill_one(self, rng: random.Random) -> None:
        name = rng.choice(SERVICES)
        with self._lock:
            if not self.stack.alive(name):
                return
            self.stack.kill(name)
            self._held_down.add(name)
        self._note(f"SIGKILL {name}")
        self._stop.wait(rng.uniform(*self.plan.down_for))
        with self._lock:
            self._held_down.discard(name)
            if name not in self.stack.procs:
                self.stack.start(name)

    def _restart_server(self, what: str) -> None:
        restart = self.restart_broker if what == "broker" else self.restart_database
        if restart is None:
            return
        self._note(f"{'RabbitMQ' if what == 'broker' else 'PostgreSQL'} restarting")
        seconds = restart()
        self._note(f"{'RabbitMQ' if what == 'broker' else 'PostgreSQL'} back after {seconds:.1f} s")
