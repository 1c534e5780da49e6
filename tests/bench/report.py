"""The printed report (an aligned table: figure, unit, target, PASS/MISS) and its JSON twin."""

from __future__ import annotations

import json
import os
import platform
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any


@dataclass(frozen=True)
class Line:
    label: str
    value: str
    target: str = ""
    status: str = ""  # PASS | MISS | FAIL | "" (information)


def status(ok: bool, fail_word: str = "MISS") -> str:
    return "PASS" if ok else fail_word


def conditions() -> dict[str, Any]:
    load = os.getloadavg()
    return {"when": time.strftime("%Y-%m-%d %H:%M:%S %Z"), "cpus": os.cpu_count(),
            "load_avg_1_5_15": [round(x, 2) for x in load], "python": platform.python_version(),
            "host": platform.node()}


def render(title: str, sections: list[tuple[str, list[Line]]], notes: list[str]) -> str:
    width = max([len(line.label) for _, lines in sections for line in lines] + [20])
    vwidth = max([len(line.value) for _, lines in sections for line in lines] + [10])
    twidth = max([len(line.target) for _, lines in sections for line in lines] + [6])
    out = [title, "=" * len(title)]
    for name, lines in sections:
        out += ["", name, "-" * len(name)]
        for line in lines:
            out.append(f"  {line.label:<{width}}  {line.value:>{vwidth}}  {line.target:<{twidth}}  {line.status}".rstrip())
    if notes:
        out += ["", "Notes:"] + [f"  - {n}" for n in notes]
    return "\n".join(out)


def write_json(directory: Path, name: str, data: dict[str, Any]) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / f"{name}-{time.strftime('%Y%m%d-%H%M%S')}.json"
    path.write_text(json.dumps(data, indent=2, default=str))
    return path


def mb(n: float) -> str:
    return f"{n / 1e6:.1f} MB"
