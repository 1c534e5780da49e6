"""``make bench`` / ``python -m tests.bench.run``: throughput, latency, memory and correctness of the
whole pipeline (four processes over RabbitMQ, PostgreSQL, an SMTP server) on one machine."""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

from tests.bench import baseline, check, logstats, phases, servers
from tests.bench.bench_report import bench_report
from tests.bench.stack import cpu_seconds, machine_busy_seconds, server_cpu_seconds
from tests.bench.sources import SOURCES, source_factory
from tests.bench.workload import Generator, big_mail
from tests.support.broker_admin import delete_topology


def _args(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="python -m tests.bench.run", description=__doc__)
    p.add_argument("--mails", type=int, default=2000, help="bulk mails, 30%% of them replies (default 2000)")
    p.add_argument("--steady-mails", type=int, default=600, help="mails of the steady-arrival run (default 600)")
    p.add_argument("--rate", type=float, default=20.0, help="steady arrival rate, mails/s (default 20)")
    p.add_argument("--big-mb", type=float, default=50.0, help="size of the one big mail, MB (0: none)")
    p.add_argument("--source", choices=SOURCES, default="dovecot",
                   help="the mailbox: a private Dovecot over IMAP with IDLE (default), or a drop folder")
    p.add_argument("--seed", type=int, default=10)
    p.add_argument("--out", type=Path, default=Path("bench-results"))
    p.add_argument("--timeout", type=float, default=900.0, help="per phase, seconds")
    return p.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = _args(argv)
    amqp_url, server_url = servers.shared_urls()
    database_url = servers.fresh_database(server_url)
    work = Path(tempfile.mkdtemp(prefix="postroom-bench-"))
    gen = Generator(args.seed)
    replies_n = round(args.mails * 0.3)
    originals = gen.originals_phase(args.mails - replies_n)
    steady = Generator(args.seed + 1).originals_phase(args.steady_mails, prefix="s", malformed=False)
    factory, env = source_factory(args.source)
    run = phases.make_run(work, amqp_url, database_url, factory, env)
    result: dict = {"source": run.source.name, "mails": args.mails, "work": str(work), "rate": args.rate}
    try:
        print(f"bulk phase 1: {len(originals)} originals ...", flush=True)
        visible = run.source.load(originals)
        run.stack.start()
        cpu_before = _cpu_at_first_fetch(run, visible, args.timeout)
        result["phase1_settled"] = phases.wait_settled(run, originals, args.timeout)
        w1 = phases.window(run, originals, visible)
        replies = gen.replies_phase(replies_n, check.numbers_by_message_id(run.sessions))
        print(f"bulk phase 2: {len(replies)} replies ...", flush=True)
        visible2 = run.source.load(replies)
        result["phase2_settled"] = phases.wait_settled(run, replies, args.timeout)
        w2 = phases.window(run, replies, visible2)
        result["windows"] = [w1, w2]
        services = run.stack.cpu() | {"harness": cpu_seconds(os.getpid()) or 0.0}
        machine, server_cpu = machine_busy_seconds(), server_cpu_seconds()
        result["cpu"] = {"services": {name: services[name] - cpu_before[0].get(name, 0.0) for name in services},
                         "servers": {name: server_cpu[name] - cpu_before[2][name] for name in server_cpu},
                         "machine": machine - cpu_before[1], "mails": len(originals) + len(replies),
                         "cores": os.cpu_count() or 1}
        # The fetcher logs no handler time: its own rate is phase 1's, where nothing throttles it.
        result["stages"] = [logstats.stage_rate(run.stack.logs("fetcher"), "fetcher", w1.start, w1.end + 1)]
        # From a second before the first fetch: the fetcher logs "fetched" once its publishes are
        # confirmed, so the parser may have logged the first mail before that.
        result["stages"] += [logstats.stage_rate(run.stack.logs(s), s, w1.start - 1, w2.end + 1)
                             for s in ("parser", "itemwriter", "notifier")]
        result["memory_bulk"] = dict(run.stack.memory.peak)

        print(f"steady arrival: {len(steady)} mails at {args.rate:g}/s ...", flush=True)
        arrivals = _steady(run, steady, args.rate)
        result["steady_settled"] = phases.wait_settled(run, steady, args.timeout)
        result["latencies"] = phases.latencies(run, arrivals)
        result["fetch_latencies"] = phases.fetch_latencies(run, steady, arrivals)
        result["rss_samples"] = {k: v[:] for k, v in run.stack.memory.samples.items()}
        result["memory_before_big"] = dict(run.stack.memory.peak)

        big = [big_mail(int(args.big_mb * 1e6))] if args.big_mb else []
        if big:
            print(f"one mail of {len(big[0].raw) / 1e6:.1f} MB ...", flush=True)
            run.source.deliver(big[0])
            result["big_settled"] = phases.wait_settled(run, big, args.timeout)
            run.stack.sample_now()
            result["big_size"] = len(big[0].raw)
        result["memory_peak"] = dict(run.stack.memory.peak)
        run.stack.stop()
        everything = originals + replies + steady + big
        dead = check.read_dead_letters(amqp_url, run.topology, run.source.key_of)
        result["verdict"] = check.verify(everything, check.inbound_rows(run.sessions), check.item_count(run.sessions),
                                         run.sink.snapshot(), dead)
        print("baseline: the standard library parsing the same bulk mails on one core ...", flush=True)
        result["baseline"] = baseline.stdlib_rate(originals + replies)
        result["bulk_bytes"] = sum(len(m.raw) for m in originals + replies)
    finally:
        run.stack.stop()
        run.sink.stop()
        run.source.close()
        cleanup(amqp_url, run.topology, server_url, database_url)
    text, data, ok = bench_report(result)
    print(text)
    print(f"\nJSON: {phases_json(args.out, data)}")
    return 0 if ok else 1


def _cpu_at_first_fetch(run: phases.Run, since: float,
                        timeout: float) -> tuple[dict[str, float], float, dict[str, float]]:
    """Each service's CPU seconds, the machine's busy seconds and each server's CPU seconds once the
    fetcher publishes its first mail: the services' start (imports, connections) is left out of the
    CPU per mail."""
    deadline = time.monotonic() + timeout
    while logstats.first_fetch(run.stack.logs("fetcher"), since - 1) is None and time.monotonic() < deadline:
        time.sleep(0.02)
    return (run.stack.cpu() | {"harness": cpu_seconds(os.getpid()) or 0.0}, machine_busy_seconds(),
            server_cpu_seconds())


def _steady(run: phases.Run, mails: list, rate: float) -> dict[str, float]:
    """Deliver at a fixed rate by the clock (not sleep after each: no drift); arrival time per mail."""
    arrivals, started = {}, time.monotonic()
    for n, mail in enumerate(mails):
        delay = started + n / rate - time.monotonic()
        if delay > 0:
            time.sleep(delay)
        arrivals[mail.message_id] = run.source.deliver(mail)
    return arrivals


def phases_json(out: Path, data: dict) -> Path:
    from tests.bench.report import write_json

    return write_json(out, "bench", data)


def cleanup(amqp_url: str, topology, server_url: str, database_url: str) -> None:  # type: ignore[no-untyped-def]
    for step in (lambda: delete_topology(amqp_url, topology),
                 lambda: servers.drop_database(server_url, database_url)):
        try:
            step()
        except Exception as exc:  # clean-up must not hide the report
            print(f"clean-up: {type(exc).__name__}: {exc}", file=sys.stderr)


if __name__ == "__main__":
    sys.exit(main())
