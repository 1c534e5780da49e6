"""The chaos run's verdict as a table and as JSON."""

from __future__ import annotations

import time
from dataclasses import asdict
from typing import Any

from tests.bench.bench_report import correctness_lines
from tests.bench.check import Verdict
from tests.bench.faults import Plan
from tests.bench.report import Line, conditions, render, status


def chaos_report(r: dict[str, Any]) -> tuple[str, dict[str, Any], bool]:
    v: Verdict = r["verdict"]
    events = r["events"]
    kills = sum(1 for _, e in events if e.startswith("SIGKILL"))
    restarts = [_restart_line(server, r["plan"], events) for server in ("RabbitMQ", "PostgreSQL")]
    faults = [
        Line("services SIGKILLed", f"{kills}"),
        *restarts,
        Line("mailbox connection drops", f"{sum(1 for _, e in events if e.startswith('mailbox'))}"),
        Line("services that exited by themselves", f"{r['supervisor_restarts']}", "", ""),
        Line("all mails settled", "yes" if r.get("settled") else "no", "yes", "PASS" if r.get("settled") else "FAIL"),
        Line("run time", f"{r['seconds']:.0f} s"),
    ]
    problems = [("lost", v.lost), ("duplicates", v.duplicates), ("misplaced", v.misplaced),
                ("auto-replies missing", v.auto_missing), ("auto-replies unexpected", v.auto_unexpected),
                ("auto-replies duplicated", v.auto_duplicates), ("dead letters unexpected", v.dead_unexpected),
                ("dead letters missing", v.dead_missing)]
    notes = [f"measured {conditions()['when']}, load average {conditions()['load_avg_1_5_15']} on "
             f"{conditions()['cpus']} CPUs; mailbox: {r['source']}"]
    notes += [f"dead letter ({d.stage}) {d.key}: {d.reason[:140]}" for d in v.dead_letters]
    notes += [f"{name}: {', '.join(items[:10])}{' ...' if len(items) > 10 else ''}" for name, items in problems if items]
    notes += ["the only duplicate auto-reply allowed: accepted by the SMTP server, then the notifier was killed "
              "before recording it; it goes again with the same Message-ID"]
    notes += [f"{time.strftime('%H:%M:%S', time.localtime(at))} {what}" for at, what in events]
    ok = v.ok and bool(r.get("settled")) and all(line.status != "FAIL" for line in restarts)
    text = render("Postroom chaos", [("Faults", faults), ("Result against the ground truth", correctness_lines(v))], notes)
    data = {"conditions": conditions(), "source": r["source"], "plan": asdict(r["plan"]), "events": events,
            "seconds": r["seconds"], "supervisor_restarts": r["supervisor_restarts"], "verdict": asdict(v) | {"ok": ok}}
    return text + f"\n\n{'PASS' if ok else 'FAIL'}", data, ok


def _restart_line(server: str, plan: Plan, events: list[tuple[float, str]]) -> Line:
    """A planned restart that did not happen (the run ended first) fails the run: it proved nothing."""
    done = sum(1 for _, e in events if e.startswith(f"{server} back"))
    planned = (plan.broker_at if server == "RabbitMQ" else plan.database_at) is not None
    if not planned:
        return Line(f"{server} restarts", f"{done}", "not planned", "")
    return Line(f"{server} restarts", f"{done}", "= 1", status(done == 1, "FAIL"))
