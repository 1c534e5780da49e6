"""``make bench-import`` / ``python -m tests.bench.large_import``: the first import of a big mailbox.

20,000 mails (by default) are put into a private Dovecot's INBOX as Maildir files before the fetcher
starts; the fetcher then reads them over IMAP (delete after fetch) while its RSS is sampled twice a
second. By default the fetcher runs alone (its messages wait in the broker: the figure is the
fetcher's own); ``--pipeline`` runs the other three services too, and waits for every item.

The verdict: memory is flat when the highest RSS of the last quarter of the import is within
``--margin`` of the highest of the first quarter.
"""

from __future__ import annotations

import argparse
import bisect
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from tests.bench import logstats, phases, servers
from tests.bench.report import Line, conditions, mb, render, status, write_json
from tests.bench.run import cleanup
from tests.bench.sources import DovecotSource, source_factory
from tests.bench.workload import Generator, Mail

CHUNK = 1000  # mails generated (and held by this process) at a time


def _args(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="python -m tests.bench.large_import", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--mails", type=int, default=20000, help="mails in the mailbox (default 20000)")
    p.add_argument("--pipeline", action="store_true", help="run parser, itemwriter and notifier too")
    p.add_argument("--margin", type=float, default=0.10, help="allowed growth of the peak RSS (default 0.10)")
    p.add_argument("--seed", type=int, default=10)
    p.add_argument("--out", type=Path, default=Path("bench-results"))
    p.add_argument("--timeout", type=float, default=1800.0, help="seconds for the whole import")
    return p.parse_args(argv)


def load_mailbox(source: DovecotSource, count: int, seed: int) -> tuple[int, int, list[str]]:
    """Deliver ``count`` workload originals in chunks (never all in memory); (mails, bytes, Message-IDs)."""
    total, ids = 0, []
    for n, start in enumerate(range(0, count, CHUNK)):
        mails: list[Mail] = Generator(seed + n).originals_phase(min(CHUNK, count - start), prefix=f"i{n:03d}-",
                                                                malformed=False)
        source.load(mails)
        total += sum(len(m.raw) for m in mails)
        ids += [m.message_id for m in mails]
    return count, total, ids


def curve(rss: list[tuple[float, int]], fetched: list[float], steps: int = 10) -> list[tuple[int, float, int]]:
    """(percent done, seconds since the first fetch, RSS) at each 1/steps of the import: the RSS of
    the last sample taken when that share of the mails had been fetched."""
    if not rss or not fetched:
        return []
    times = [t for t, _ in rss]
    out = []
    for k in range(steps + 1):
        at = fetched[min(len(fetched) - 1, max(0, round(k / steps * len(fetched)) - 1))]
        i = max(0, bisect.bisect_right(times, at) - 1)
        out.append((k * 100 // steps, at - fetched[0], rss[i][1]))
    return out


def quarter_peaks(rss: list[tuple[float, int]], fetched: list[float]) -> tuple[int, int]:
    """Highest RSS while the first quarter of the mails was fetched, and while the last one was."""
    n = len(fetched)
    first = [v for t, v in rss if fetched[0] <= t <= fetched[max(0, n // 4 - 1)]]
    last = [v for t, v in rss if fetched[min(n - 1, 3 * n // 4)] <= t <= fetched[-1]]
    return max(first, default=0), max(last, default=0)


def _fetched_times(path: Path, since: float) -> list[float]:
    return sorted(at for entry in logstats.lines(path) if entry.get("event") == "fetched"
                  and (at := logstats.timestamp(entry)) >= since)


def main(argv: list[str] | None = None) -> int:
    args = _args(argv)
    amqp_url, server_url = servers.shared_urls()
    database_url = servers.fresh_database(server_url)
    work = Path(tempfile.mkdtemp(prefix="postroom-import-"))
    factory, env = source_factory("dovecot")
    run = phases.make_run(work, amqp_url, database_url, factory, env)
    source = run.source
    assert isinstance(source, DovecotSource)
    r: dict[str, Any] = {"source": source.name, "pipeline": args.pipeline}
    try:
        print(f"loading {args.mails} mails into the mailbox ...", flush=True)
        started = time.time()
        r["mails"], r["bytes"], ids = load_mailbox(source, args.mails, args.seed)
        print(f"  {r['bytes'] / 1e6:.0f} MB in {time.time() - started:.0f} s; importing ...", flush=True)
        begun = time.time()
        run.stack.start(*(() if args.pipeline else ("fetcher",)))
        r["drained"] = _wait(lambda: source.pending() == 0, args.timeout, lambda: _progress(args.mails, source))
        if args.pipeline:
            r["settled"] = _wait(lambda: _stored(run, ids) >= len(ids), args.timeout, lambda: None)
        run.stack.stop()
        fetched = _fetched_times(run.stack.logs("fetcher"), begun - 1)
        rss = run.stack.memory.samples["fetcher"]
        r["fetched"] = len(fetched)
        r["seconds"] = fetched[-1] - fetched[0] if len(fetched) > 1 else 0.0
        r["curve"] = curve(rss, fetched)
        r["first_quarter_peak"], r["last_quarter_peak"] = quarter_peaks(rss, fetched) if fetched else (0, 0)
        r["vmhwm"] = run.stack.memory.peak["fetcher"]
        r["rss_samples"] = rss
    finally:
        run.stack.stop()
        run.sink.stop()
        source.close()
        cleanup(amqp_url, run.topology, server_url, database_url)
        servers.remove(work)
    text, data, ok = report(r, args.margin)
    print(text)
    print(f"\nJSON: {write_json(args.out, 'import', data)}")
    return 0 if ok else 1


def _wait(done, timeout: float, tick) -> bool:  # type: ignore[no-untyped-def]
    deadline, shown = time.monotonic() + timeout, time.monotonic()
    while time.monotonic() < deadline:
        if done():
            return True
        if time.monotonic() - shown > 10:
            tick()
            shown = time.monotonic()
        time.sleep(0.5)
    return False


def _progress(total: int, source: DovecotSource) -> None:
    print(f"  {total - source.pending()} / {total} fetched", flush=True)


def _stored(run: phases.Run, ids: list[str]) -> int:
    from tests.bench.check import inbound_rows

    rows = inbound_rows(run.sessions)
    return sum(1 for mid in ids if mid in rows)


def report(r: dict[str, Any], margin: float) -> tuple[str, dict[str, Any], bool]:
    first, last = r["first_quarter_peak"], r["last_quarter_peak"]
    flat = bool(first) and last <= first * (1 + margin)
    complete = r["fetched"] == r["mails"] and r["drained"] and r.get("settled", True)
    rate = r["fetched"] / r["seconds"] if r["seconds"] else 0.0
    summary = [
        Line("mails in the mailbox", f"{r['mails']}", "", ""),
        Line("mailbox size", mb(r["bytes"])),
        Line("fetched (and deleted from the mailbox)", f"{r['fetched']}", f"= {r['mails']}",
             status(complete, "FAIL")),
        Line("fetcher throughput", f"{rate:.0f} mails/s"),
        Line("fetcher peak RSS, first quarter", mb(first)),
        Line("fetcher peak RSS, last quarter", mb(last), f"<= first +{margin:.0%}", status(flat, "FAIL")),
        Line("fetcher VmHWM", mb(r["vmhwm"])),
    ]
    shape = [Line(f"{pct:3d}% fetched, {at:6.1f} s", mb(rss)) for pct, at, rss in r["curve"]]
    cond = conditions()
    notes = [f"measured {cond['when']} on {cond['cpus']} CPUs, load average {cond['load_avg_1_5_15']} "
             "(other work shares the machine)",
             f"mailbox: {r['source']}; the fetcher {'with the three other services' if r['pipeline'] else 'alone'}",
             "throughput: mails over the span of the fetcher's 'fetched' lines"]
    text = render("Postroom first import", [("Import", summary), ("Fetcher RSS over the import", shape)], notes)
    ok = flat and complete
    data = {"conditions": cond, **{k: v for k, v in r.items() if k != "rss_samples"}, "rate_per_s": rate,
            "flat": flat, "margin": margin, "rss_samples": r["rss_samples"], "ok": ok}
    return text + f"\n\n{'PASS' if ok else 'FAIL'}", data, ok


if __name__ == "__main__":
    sys.exit(main())
