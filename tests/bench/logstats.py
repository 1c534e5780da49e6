"""Each stage's own rate, read from the services' JSON log lines: the runner's canonical ``handled``
line (with ``duration_ms``) per message, and the fetcher's ``fetched`` line per mail."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path


@dataclass(frozen=True)
class StageRate:
    stage: str
    handled: int
    span_s: float  # first to last line in the window
    busy_s: float  # sum of handler durations (0 for the fetcher, which logs none)

    @property
    def observed(self) -> float:
        """Messages per second over the window, waiting for upstream included."""
        return self.handled / self.span_s if self.span_s > 0 else 0.0

    @property
    def own(self) -> float:
        """Messages per second of handler time alone: what the stage does when never starved."""
        return self.handled / self.busy_s if self.busy_s > 0 else self.observed


def lines(path: Path):  # type: ignore[no-untyped-def]
    if not path.exists():
        return
    with path.open(errors="replace") as fh:
        for line in fh:
            if line.startswith("{"):
                try:
                    yield json.loads(line)
                except ValueError:
                    continue


def timestamp(entry: dict) -> float:
    return datetime.fromisoformat(entry["timestamp"].replace("Z", "+00:00")).timestamp()


def stage_rate(path: Path, stage: str, since: float, until: float) -> StageRate:
    event = "fetched" if stage == "fetcher" else "handled"
    times, busy = [], 0.0
    for entry in lines(path):
        if entry.get("event") != event or "timestamp" not in entry:
            continue
        at = timestamp(entry)
        if since <= at <= until:
            times.append(at)
            busy += float(entry.get("duration_ms", 0)) / 1000
    span = max(times) - min(times) if len(times) > 1 else 0.0
    return StageRate(stage, len(times), span, busy)


def first_fetch(path: Path, since: float) -> float | None:
    found = [at for entry in lines(path) if entry.get("event") == "fetched" and (at := timestamp(entry)) >= since]
    return min(found) if found else None


def fetched_at(path: Path) -> dict[str, float]:
    """When the fetcher published each mail: source_id -> time of its first ``fetched`` line."""
    out: dict[str, float] = {}
    for entry in lines(path):
        if entry.get("event") == "fetched" and "source_id" in entry:
            out.setdefault(entry["source_id"], timestamp(entry))
    return out
