"""The bench's figures against its targets, as a table and as JSON."""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from tests.bench.check import Verdict
from tests.bench.phases import percentile
from tests.bench.report import Line, conditions, mb, render, status

TARGET_RATIO = 1.0
TARGET_P95 = 1.0
BIG_FACTOR = 4


def correctness_lines(v: Verdict) -> list[Line]:
    return [
        Line("mails in", f"{v.mails_in}"),
        Line("items created", f"{v.items_created}", f"= {v.items_expected}", status(v.items_created == v.items_expected, "FAIL")),
        Line("replies appended to their item", f"{v.replies_appended}", f"= {v.replies_expected}",
             status(v.replies_appended == v.replies_expected, "FAIL")),
        Line("lost", f"{len(v.lost)}", "= 0", status(not v.lost, "FAIL")),
        Line("duplicates", f"{len(v.duplicates)}", "= 0", status(not v.duplicates, "FAIL")),
        Line("on the wrong item / wrongly stored", f"{len(v.misplaced)}", "= 0", status(not v.misplaced, "FAIL")),
        Line("auto-replies (distinct mails answered)", f"{v.auto_sent}", f"= {v.auto_expected}",
             status(v.auto_sent == v.auto_expected and not v.auto_missing and not v.auto_unexpected, "FAIL")),
        Line("auto-replies resent, same Message-ID", f"{v.auto_resent_same_id}", "window", ""),
        Line("auto-replies duplicated, new Message-ID", f"{len(v.auto_duplicates)}", "= 0",
             status(not v.auto_duplicates, "FAIL")),
        Line("dead letters", f"{len(v.dead_letters)}", f"= {v.dead_expected} malformed",
             status(not v.dead_unexpected and not v.dead_missing, "FAIL")),
    ]


def cpu_lines(cpu: dict[str, Any]) -> list[Line]:
    """Where the machine's CPU went per bulk mail, and the throughput that cost allows at best."""
    per_mail = {name: seconds / cpu["mails"] * 1000 for name, seconds in cpu["services"].items()}
    harness = per_mail.pop("harness", None)
    services = sum(per_mail.values())
    machine = cpu["machine"] / cpu["mails"] * 1000
    servers = {name: seconds / cpu["mails"] * 1000 for name, seconds in cpu.get("servers", {}).items()}
    lines = [Line(f"{name}", f"{ms:.1f} ms") for name, ms in per_mail.items()]
    lines += [
        Line("the four services", f"{services:.1f} ms"),
        *[Line(f"{name} (server)", f"{ms:.1f} ms") for name, ms in servers.items()],
        *([Line("this harness (SMTP sink, progress checks)", f"{harness:.1f} ms")] if harness is not None else []),
        Line("the whole machine (all of the above, kernel, other work)", f"{machine:.1f} ms"),
        Line(f"best throughput at this cost on {cpu['cores']} cores", f"{cpu['cores'] * 1000 / machine:.0f} mails/s"),
    ]
    return lines


def bench_report(r: dict[str, Any]) -> tuple[str, dict[str, Any], bool]:
    w1, w2 = r["windows"]
    seconds = w1.seconds + w2.seconds
    e2e = (w1.mails + w2.mails) / seconds
    base = r["baseline"]
    ratio = e2e / base["per_s_wall"]
    lat = r["latencies"]
    p50, p95, p99 = (percentile(lat, p) for p in (50, 95, 99))
    v: Verdict = r["verdict"]
    cond = conditions()
    throughput = [
        Line("bulk mails (originals + replies)", f"{w1.mails} + {w2.mails}"),
        Line("average mail size", f"{r['bulk_bytes'] / (w1.mails + w2.mails) / 1000:.1f} KB"),
        Line("end-to-end time (two phases)", f"{w1.seconds:.1f} + {w2.seconds:.1f} s"),
        Line("end-to-end throughput", f"{e2e:.1f} mails/s"),
        Line("stdlib parse, one core (wall)", f"{base['per_s_wall']:.1f} mails/s"),
        Line("stdlib parse, one core (CPU time)", f"{base['per_s_cpu']:.1f} mails/s"),
        Line("ratio pipeline / stdlib (wall)", f"{ratio:.2f}", f">= {TARGET_RATIO}", status(ratio >= TARGET_RATIO)),
    ]
    stages = [Line(f"{s.stage}: handled / observed / own rate",
                   f"{s.handled} / {s.observed:.1f} / {s.own:.1f} per s") for s in r["stages"]]
    latency = [
        Line("steady arrival", f"{len(lat)} mails at {r.get('rate', 20):g}/s"),
        Line("arrival -> item, p50", f"{p50 * 1000:.0f} ms"),
        Line("arrival -> item, p95", f"{p95 * 1000:.0f} ms", f"< {TARGET_P95 * 1000:.0f} ms", status(p95 < TARGET_P95)),
        Line("arrival -> item, p99", f"{p99 * 1000:.0f} ms"),
    ]
    fetch = r.get("fetch_latencies") or []
    f50, f95, f99 = (percentile(fetch, p) for p in (50, 95, 99))
    if fetch:
        latency.append(Line("arrival -> published by the fetcher, p50 / p95 / p99",
                            f"{f50 * 1000:.0f} / {f95 * 1000:.0f} / {f99 * 1000:.0f} ms"))
    cpu = cpu_lines(r["cpu"]) if r.get("cpu") else []
    memory = [Line(f"{name}: peak (VmHWM) bulk+steady / with big mail",
                   f"{mb(r['memory_before_big'][name])} / {mb(r['memory_peak'][name])}")
              for name in r["memory_peak"]]
    if r.get("big_size"):
        limit = BIG_FACTOR * r["big_size"]
        memory.append(Line(f"parser peak with a {mb(r['big_size'])} mail", mb(r["memory_peak"]["parser"]),
                           f"< {mb(limit)}", status(r["memory_peak"]["parser"] < limit)))
    notes = [
        f"measured {cond['when']} on {cond['cpus']} CPUs, load average {cond['load_avg_1_5_15']} "
        "(other work shares the machine: figures are pessimistic)",
        f"mailbox: {r['source']}; latency is from the mail's arrival in the mailbox (the APPEND answered, "
        "or the file renamed into the drop folder) to its row's commit",
        "end-to-end: first fetch to the last item committed and the last auto-reply accepted by the SMTP server; "
        "replies are a second phase (their item numbers are read from the database), timed the same way",
        "CPU per mail: each service's CPU seconds from the first fetch to the end of phase 2, and the machine's "
        "busy time over the same span (idle waits between the phases included), divided by the bulk mails",
        "own rate = messages / handler time; observed = messages / span of the stage's log lines "
        "(the fetcher: phase 1's originals over the span of its 'fetched' lines)",
        "loop governor caps at their defaults: every original has its own sender",
        "the 20,000-mail first import and the fetcher's memory over it: make bench-import "
        "(python -m tests.bench.large_import)",
    ]
    sections = [("Throughput", throughput), ("Stages", stages), ("CPU per mail (bulk phases)", cpu),
                ("Latency", latency), ("Memory", memory),
                ("Correctness (against the generator's ground truth)", correctness_lines(v))]
    ok = v.ok
    data = {"conditions": cond, "source": r["source"], "throughput": {"end_to_end_per_s": e2e, "ratio": ratio,
            "windows": [asdict(w1), asdict(w2)], "baseline": base},
            "stages": [asdict(s) | {"observed_per_s": s.observed, "own_per_s": s.own} for s in r["stages"]],
            "cpu": r.get("cpu"),
            "latency_s": {"p50": p50, "p95": p95, "p99": p99, "count": len(lat),
                          "fetch": {"p50": f50, "p95": f95, "p99": f99, "count": len(fetch)}},
            "memory": {"before_big": r["memory_before_big"], "peak": r["memory_peak"], "big_size": r.get("big_size"),
                       "rss_samples": r["rss_samples"]},
            "verdict": asdict(v) | {"ok": ok}, "settled": {k: r.get(k) for k in
                                                          ("phase1_settled", "phase2_settled", "steady_settled", "big_settled")}}
    return render("Postroom bench", sections, notes), data, ok
