"""``make chaos`` / ``python -m tests.bench.chaos``: the bench workload while services are SIGKILLed,
the broker and the database restart; then every mail is checked against the ground truth.

It starts its own RabbitMQ and PostgreSQL (other ports, state in a scratch directory): the machine's
shared servers are never restarted. Exit status 1 when a property fails.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy.exc import OperationalError

from tests.bench import check, phases, servers
from tests.bench.chaos_report import chaos_report
from tests.bench.faults import Injector, Plan
from tests.bench.report import write_json
from tests.bench.sources import SOURCES, source_factory
from tests.bench.workload import Generator


@dataclass
class Options:
    mails: int = 5000
    fault_seconds: float = 90.0
    private_postgres: bool = True  # False: the shared PostgreSQL (fresh database), never restarted
    server_url: str | None = None  # that shared server (default: DATABASE_URL)
    seed: int = 10
    timeout: float = 900.0
    kill_every: tuple[float, float] = (2.0, 5.0)
    source: str = "dovecot"
    connection_drops: int = 2  # where the source has a connection to cut


def _stored_share(run: phases.Run, mails: int) -> float:
    try:
        return check.inbound_count(run.sessions) / mails
    except OperationalError:  # the database is restarting
        return 0.0


def run_chaos(opts: Options, work: Path) -> tuple[str, dict[str, Any], bool]:
    rabbit = servers.PrivateRabbit(work / "rabbitmq")
    pg = servers.PrivatePostgres(work / "postgres") if opts.private_postgres else None
    try:
        starter = threading.Thread(target=rabbit.start)
        starter.start()
        if pg is not None:
            pg.start()
        starter.join()
        if not servers.answers(rabbit.port):
            raise RuntimeError(f"the private RabbitMQ did not start: see {rabbit.root}/log")
        server_url = pg.url if pg is not None else (opts.server_url or servers.shared_urls()[1])
        database_url = servers.fresh_database(server_url)
        return _run(opts, work, rabbit, pg, server_url, database_url)
    finally:
        rabbit.stop()
        if pg is not None:
            pg.stop()


def _run(opts: Options, work: Path, rabbit: servers.PrivateRabbit, pg: servers.PrivatePostgres | None,
         server_url: str, database_url: str) -> tuple[str, dict[str, Any], bool]:
    factory, env = source_factory(opts.source)
    run = phases.make_run(work / "run", rabbit.url, database_url, factory, env)
    gen = Generator(opts.seed)
    replies_n = round(opts.mails * 0.3)
    originals = gen.originals_phase(opts.mails - replies_n)
    plan = Plan(seconds=opts.fault_seconds, kill_every=opts.kill_every, seed=opts.seed,
                database_at=Plan.database_at if pg is not None else None, connection_drops=opts.connection_drops)
    injector = Injector(run.stack, plan, rabbit.restart, pg.restart if pg is not None else None,
                        run.source.drop_connection, progress=lambda: _stored_share(run, opts.mails))
    result: dict[str, Any] = {"source": run.source.name, "plan": plan, "work": str(work)}
    try:
        started = time.time()
        run.source.load(originals)
        run.stack.start()
        injector.start()
        injector.drop_while_reading()
        result["phase1_settled"] = phases.wait_settled(run, originals, opts.timeout, injector.supervise)
        replies = gen.replies_phase(replies_n, check.numbers_by_message_id(run.sessions))
        run.source.load(replies)
        injector.drop_while_reading()
        result["phase2_settled"] = phases.wait_settled(run, replies, opts.timeout, injector.supervise)
        injector.stop()
        # Faults may have ended before the last mail: wait again with every service up.
        result["settled"] = phases.wait_settled(run, originals + replies, opts.timeout, injector.supervise)
        result["seconds"] = time.time() - started
        run.stack.stop()
        dead = check.read_dead_letters(rabbit.url, run.topology, run.source.key_of)
        result["verdict"] = check.verify(originals + replies, check.inbound_rows(run.sessions),
                                         check.item_count(run.sessions), run.sink.snapshot(), dead)
        result["events"] = injector.events
        result["supervisor_restarts"] = injector.supervisor_restarts
    finally:
        injector.stop()
        run.stack.stop()
        run.sink.stop()
        run.source.close()
        run.sessions.kw["bind"].dispose()
        if pg is None:
            servers.drop_database(server_url, database_url)
    return chaos_report(result)


def _args(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="python -m tests.bench.chaos", description=__doc__)
    p.add_argument("--mails", type=int, default=5000, help="mails, 30%% of them replies (default 5000)")
    p.add_argument("--fault-seconds", type=float, default=90.0, help="how long faults go on (default 90)")
    p.add_argument("--shared-postgres", action="store_true",
                   help="use DATABASE_URL's server (a fresh database) instead of a private one; no database restart")
    p.add_argument("--source", choices=SOURCES, default="dovecot",
                   help="the mailbox: a private Dovecot over IMAP with IDLE (default), or a drop folder")
    p.add_argument("--seed", type=int, default=10)
    p.add_argument("--out", type=Path, default=Path("bench-results"))
    p.add_argument("--keep", action="store_true", help="keep the scratch directory (logs, server state)")
    return p.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = _args(argv)
    work = Path(tempfile.mkdtemp(prefix="postroom-chaos-"))
    opts = Options(mails=args.mails, fault_seconds=args.fault_seconds, private_postgres=not args.shared_postgres,
                   seed=args.seed, source=args.source)
    text, data, ok = run_chaos(opts, work)
    print(text)
    print(f"\nJSON: {write_json(args.out, 'chaos', data)}")
    if not args.keep:
        servers.remove(work)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
