"""The chaos run's verdict as a table and as JSON."""

from __future__ import annotations

import time
from dataclasses import asdict, dataclass
from typing import Any

from tests.bench.bench_report import correctness_lines
from tests.bench.check import Verdict
from tests.bench.faults import Plan
from tests.bench.report import Line, conditions, render, status


@dataclass(frozen=True)
class Resends:
    """The auto-replies the SMTP server accepted twice (same Message-ID), by what explains them."""

    notifier_kills: int  # the notifier SIGKILLs the run made
    after_a_kill: int  # a notifier SIGKILL came between the two acceptances: the documented window
    database: int  # none did, and the first acceptance fell in the PostgreSQL restart
    unexplained: int  # none did, at another time

    @property
    def ok(self) -> bool:
        return self.after_a_kill <= self.notifier_kills and self.database == 0 and self.unexplained == 0

    def summary(self) -> str:
        return (f"re-sends: {self.after_a_kill} after {self.notifier_kills} notifier kills (at most one each), "
                f"{self.database} through the database restart, {self.unexplained} otherwise")


# The sink notes an acceptance just before it answers 250: a kill a moment earlier still falls between.
_SLACK = 0.5


def resends(resent_at: list[tuple[float, float]], events: list[tuple[float, str]]) -> Resends:
    kills = [at for at, e in events if e == "SIGKILL notifier"]
    down = [at for at, e in events if e == "PostgreSQL restarting"]
    back = [at for at, e in events if e.startswith("PostgreSQL back")]
    windows = [(start, end + 10.0) for start, end in zip(down, back, strict=False)]  # reconnecting takes a while
    after = database = unexplained = 0
    for first, again in resent_at:
        if any(first - _SLACK <= at <= again for at in kills):
            after += 1
        elif any(start - _SLACK <= first <= end for start, end in windows):
            database += 1
        else:
            unexplained += 1
    return Resends(len(kills), after, database, unexplained)


def chaos_report(r: dict[str, Any]) -> tuple[str, dict[str, Any], bool]:
    v: Verdict = r["verdict"]
    events = r["events"]
    kills = sum(1 for _, e in events if e.startswith("SIGKILL"))
    resent = resends(v.auto_resent_at, events)
    restarts = [_restart_line(server, r["plan"], events) for server in ("RabbitMQ", "PostgreSQL")]
    faults = [
        Line("services SIGKILLed", f"{kills}"),
        Line("notifier SIGKILLed", f"{resent.notifier_kills}"),
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
    notes += [f"dead letter ({d.stage}) {d.key}: {d.reason[:140]}"
              + (f" ({d.copies} copies: dead-lettered again after a kill before the ack)" if d.copies > 1 else "")
              for d in v.dead_letters]
    notes += [f"{name}: {', '.join(items[:10])}{' ...' if len(items) > 10 else ''}" for name, items in problems if items]
    notes += ["the only duplicate auto-reply allowed: accepted by the SMTP server, then the notifier was killed "
              "before recording it; it goes again with the same Message-ID (at most one per kill); a database "
              "out of reach after the acceptance re-sends nothing (the completion is written once it is back)"]
    notes += [f"{time.strftime('%H:%M:%S', time.localtime(at))} {what}" for at, what in events]
    resend_lines = [
        Line("auto-replies re-sent after a notifier kill", f"{resent.after_a_kill}", f"<= {resent.notifier_kills} kills",
             status(resent.after_a_kill <= resent.notifier_kills, "FAIL")),
        Line("auto-replies re-sent through the database restart", f"{resent.database}", "= 0",
             status(resent.database == 0, "FAIL")),
        Line("auto-replies re-sent otherwise", f"{resent.unexplained}", "= 0", status(resent.unexplained == 0, "FAIL")),
    ]
    ok = v.ok and resent.ok and bool(r.get("settled")) and all(line.status != "FAIL" for line in restarts)
    text = render("Postroom chaos", [("Faults", faults), ("Result against the ground truth", correctness_lines(v)),
                                     ("Re-sends (same Message-ID)", resend_lines)], notes)
    data = {"conditions": conditions(), "source": r["source"], "plan": asdict(r["plan"]), "events": events,
            "seconds": r["seconds"], "supervisor_restarts": r["supervisor_restarts"], "verdict": asdict(v) | {"ok": ok},
            "resends": asdict(resent)}
    return text + f"\n\n{resent.summary()}\n{'PASS' if ok else 'FAIL'}", data, ok


def _restart_line(server: str, plan: Plan, events: list[tuple[float, str]]) -> Line:
    """A planned restart that did not happen (the run ended first) fails the run: it proved nothing."""
    done = sum(1 for _, e in events if e.startswith(f"{server} back"))
    planned = (plan.broker_at if server == "RabbitMQ" else plan.database_at) is not None
    if not planned:
        return Line(f"{server} restarts", f"{done}", "not planned", "")
    return Line(f"{server} restarts", f"{done}", "= 1", status(done == 1, "FAIL"))
