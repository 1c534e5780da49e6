"""``make bench`` (second part) / ``python -m tests.bench.api``: the HTTP API as people use it.

1. Listing: a page of 50 items filtered by status, with 100,000 items in PostgreSQL, through the
   API process over HTTP (sign-in token, JSON): p50 / p95 / max. Target: p95 under 50 ms.
2. Replying: an agent's reply from the POST to the SMTP server's acceptance, through the API
   process, RabbitMQ and a notifier process: p50 / p95 / max.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import insert, text

from tests.bench import servers
from tests.support.broker_admin import delete_namespace
from tests.support.servers import free_port
from tests.support.smtp import RecordingHandler
from tests.support.waiting import wait_for

ROOT = Path(__file__).resolve().parents[2]
STATUSES = ("new", "open", "waiting", "closed")


def _args(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="python -m tests.bench.api", description=__doc__)
    p.add_argument("--items", type=int, default=100_000)
    p.add_argument("--lists", type=int, default=300, help="list requests measured (default 300)")
    p.add_argument("--replies", type=int, default=50, help="replies measured (default 50)")
    return p.parse_args(argv)


def _figures(name: str, seconds: list[float], target_ms: float | None = None) -> str:
    ms = sorted(s * 1000 for s in seconds)
    p95 = ms[max(0, int(len(ms) * 0.95) - 1)]
    verdict = "" if target_ms is None else (f"  (target p95 < {target_ms:.0f} ms: "
                                            f"{'met' if p95 < target_ms else 'MISSED'})")
    return (f"{name:<42} n={len(ms):<5} p50 {statistics.median(ms):7.1f} ms   p95 {p95:7.1f} ms   "
            f"max {ms[-1]:7.1f} ms{verdict}")


def _seed(database_url: str, count: int) -> None:
    from shared.db.engine import make_engine, make_sessionmaker, transaction
    from shared.db.models import Account, Item, utcnow
    from services.app import users

    engine = make_engine(database_url)
    sessions = make_sessionmaker(engine)
    with transaction(sessions) as session:
        users.add_user(session, "bench@ours.example", role="agent", password="bench password 1")
        session.add(Account(name="support", kind="stdin", address="support@ours.example", project="Support",
                            item_type="incident", config={}))
    now = utcnow()
    rows = [{"type": "defect", "number": n, "project": "Support", "title": f"Bench item {n}", "description": "",
             "status": STATUSES[n % 4], "account": "support", "automatic": False, "created_at": now,
             "updated_at": now, "fields": {}} for n in range(1, count + 1)]
    with engine.begin() as conn:
        for start in range(0, len(rows), 10_000):
            conn.execute(insert(Item.__table__), rows[start:start + 10_000])
    with engine.connect() as conn:  # what autovacuum does soon after a bulk load
        conn.execute(text("ANALYZE items"))
        conn.commit()
    engine.dispose()


def _customer_items(database_url: str, count: int) -> list[int]:
    from shared.db.engine import make_engine, make_sessionmaker
    from tests.support.items import handle, mail

    sessions = make_sessionmaker(make_engine(database_url))
    return [handle(sessions, mail(sender=f"c{n}@customer.example", subject=f"Help {n}")).item.number
            for n in range(count)]


def main(argv: list[str] | None = None) -> int:
    args = _args(argv)
    from aiosmtpd.controller import Controller

    from shared.logging import configure_logging

    configure_logging("WARNING", "console")  # the in-process itemwriter's line per mail is not the report

    amqp_url, server_url = servers.shared_urls()
    database_url = servers.fresh_database(server_url)
    namespace = f"bench{os.getpid()}."
    work = Path(tempfile.mkdtemp(prefix="postroom-bench-api-"))
    smtp, smtp_port = TimedHandler(), free_port()
    controller = Controller(smtp, hostname="127.0.0.1", port=smtp_port)
    controller.start()
    api_port = free_port()
    env = {**os.environ, "AMQP_URL": amqp_url, "DATABASE_URL": database_url, "POSTROOM_BROKER_NAMESPACE": namespace,
           "POSTROOM_VAR_DIR": str(work), "POSTROOM_API_PORT": str(api_port), "SMTP_HOST": "127.0.0.1",
           "SMTP_PORT": str(smtp_port), "POSTROOM_LOG_LEVEL": "WARNING", "POSTROOM_LOG_FORMAT": "json"}
    procs: list[subprocess.Popen[bytes]] = []
    try:
        print(f"seeding {args.items:,} items in PostgreSQL ...", flush=True)
        _seed(database_url, args.items)
        numbers = _customer_items(database_url, args.replies)
        for name in ("api", "notifier"):
            procs.append(subprocess.Popen([sys.executable, "-m", f"services.{name}"], env=env, cwd=ROOT,
                                          stdout=(work / f"{name}.log").open("wb"), stderr=subprocess.STDOUT))
        client = httpx.Client(base_url=f"http://127.0.0.1:{api_port}/api/v1", timeout=10)
        wait_for(lambda: _answers(client), timeout=60, what="the API")
        token = client.post("/session", json={"email": "bench@ours.example", "password": "bench password 1"})
        client.headers["Authorization"] = f"Bearer {token.json()['token']}"
        lists = []
        for n in range(args.lists + 20):
            started = time.perf_counter()
            answer = client.get("/items", params={"status": STATUSES[n % 3], "per_page": 50, "page": 1 + n % 20})
            elapsed = time.perf_counter() - started
            assert answer.status_code == 200 and len(answer.json()["items"]) == 50, answer.text[:200]
            if n >= 20:  # the first requests warm the pool and the caches
                lists.append(elapsed)
        replies = []
        for number in numbers:
            started = time.time()
            answer = client.post(f"/items/incident/{number}/replies", json={"text": "On it."})
            assert answer.status_code == 202, answer.text
            accepted = wait_for(lambda at=started: smtp.accepted_after(at) or 0.0,  # type: ignore[misc]
                                timeout=30, interval=0.002, what="the reply")
            replies.append(accepted - started)
        print()
        print(f"API bench: {args.items:,} items in PostgreSQL, one API process, one notifier process")
        print(_figures("list 50 items filtered by status", lists, 50))
        print(_figures("agent reply: POST to SMTP acceptance", replies))
        return 0
    finally:
        for proc in procs:
            proc.terminate()
        for proc in procs:
            proc.wait(timeout=30)
        controller.stop()
        delete_namespace(amqp_url, namespace)
        servers.drop_database(server_url, database_url)


def _answers(client: httpx.Client) -> bool:
    try:
        return client.get("/openapi.json").status_code == 200
    except httpx.TransportError:
        return False


class TimedHandler(RecordingHandler):
    """Records when each mail was accepted."""

    def __init__(self) -> None:
        super().__init__()
        self.times: list[float] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802
        self.times.append(time.time())
        return await super().handle_DATA(server, session, envelope)

    def accepted_after(self, started: float) -> float | None:
        return next((t for t in self.times if t >= started), None)


if __name__ == "__main__":
    sys.exit(main())
