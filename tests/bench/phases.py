"""What the bench and chaos runs share: the run's parts wired together, waiting for the pipeline to
settle a batch, and timing it (first fetch to the last item committed and last auto-reply accepted)."""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session, sessionmaker

from shared.broker.topology import Topology
from shared.db.engine import make_engine, make_sessionmaker
from tests.bench import check, logstats
from tests.bench.sink import RecordingSink
from tests.bench.sources import MailSource
from tests.bench.stack import Stack
from tests.bench.workload import Mail

# Retry ladder of the runs: short, so a mail retried after a fault comes back within seconds.
RETRY_DELAYS = "0.5,2,5,10"


@dataclass
class Run:
    work: Path
    amqp_url: str
    database_url: str
    namespace: str
    source: MailSource
    sink: RecordingSink
    stack: Stack
    sessions: sessionmaker[Session]

    @property
    def topology(self) -> Topology:
        return Topology(namespace=self.namespace, retry_delays=tuple(float(d) for d in RETRY_DELAYS.split(",")))


def make_run(work: Path, amqp_url: str, database_url: str, source_factory: Callable[[Path], MailSource],
             extra_env: dict[str, str]) -> Run:
    namespace = f"bench{uuid.uuid4().hex[:8]}."
    sink = RecordingSink().start()
    source = source_factory(work)
    env = {"POSTROOM_RETRY_DELAYS": RETRY_DELAYS, **extra_env}
    stack = Stack(work, amqp_url, database_url, sink.port, namespace, env)
    stack.apply_accounts([source.account()])
    return Run(work, amqp_url, database_url, namespace, source, sink, stack,
               make_sessionmaker(make_engine(database_url)))


def settled(run: Run, mails: list[Mail]) -> tuple[int, int]:
    """(mails stored or accounted for, auto-replies accepted) of ``mails``."""
    rows = check.inbound_rows(run.sessions)
    stored = sum(1 for m in mails if m.message_id in rows or m.expect.dead_letter)
    wanted = {m.message_id for m in mails if m.expect.auto_reply}
    answered = len({a.in_reply_to for a in run.sink.snapshot()} & wanted)
    return stored, answered


def wait_settled(run: Run, mails: list[Mail], timeout: float, on_tick: Callable[[], None] = lambda: None) -> bool:
    want_stored, want_answers = len(mails), sum(1 for m in mails if m.expect.auto_reply)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        on_tick()
        try:
            stored, answered = settled(run, mails)
        except OperationalError:  # the database is restarting (chaos): ask again
            time.sleep(0.5)
            continue
        if stored >= want_stored and answered >= want_answers:
            return True
        time.sleep(0.5)
    return False


@dataclass(frozen=True)
class Window:
    mails: int
    start: float  # the first fetch
    end: float  # the last item committed or auto-reply accepted, whichever is later

    @property
    def seconds(self) -> float:
        return max(self.end - self.start, 1e-6)


def window(run: Run, mails: list[Mail], visible_at: float) -> Window:
    ids = {m.message_id for m in mails}
    rows = check.inbound_rows(run.sessions)
    last_row = max((r[0].created_at.timestamp() for mid, r in rows.items() if mid in ids), default=visible_at)
    last_reply = max((a.at for a in run.sink.snapshot() if a.in_reply_to in ids), default=visible_at)
    start = logstats.first_fetch(run.stack.logs("fetcher"), visible_at - 1) or visible_at
    return Window(len(mails), start, max(last_row, last_reply))


def latencies(run: Run, arrivals: dict[str, float]) -> list[float]:
    """Seconds from each mail's arrival in the mailbox to its item mail row (committed with the item)."""
    rows = check.inbound_rows(run.sessions)
    return sorted(rows[mid][0].created_at.timestamp() - at for mid, at in arrivals.items() if mid in rows)


def fetch_latencies(run: Run, mails: list[Mail], arrivals: dict[str, float]) -> list[float]:
    """Seconds from each mail's arrival in the mailbox to its publication by the fetcher."""
    by_key = {m.key: arrivals[m.message_id] for m in mails if m.message_id in arrivals}
    out = []
    for source_id, at in logstats.fetched_at(run.stack.logs("fetcher")).items():
        key = run.source.key_of(source_id)
        if key in by_key:
            out.append(at - by_key[key])
    return sorted(out)


def percentile(values: list[float], p: float) -> float:
    if not values:
        return float("nan")
    k = min(len(values) - 1, max(0, round(p / 100 * (len(values) - 1))))
    return sorted(values)[k]

