"""``python -m tests.bench.parser_bounds`` (part of ``make bench``): the parser's time and peak memory
on mail shaped to cost it: a million parts, and multiparts nested 100,000 deep, with the boundary
spelled each way the shape scan must read as the stdlib parser does (plain ``boundary=``,
``x-boundary=`` decoys, RFC 2231 ``boundary*0=`` continuations, a second Content-Type field); then
mail at the limits, which is parsed, and one 50 MB attachment.

Each mail is parsed by ``normalize`` in a process of its own (tests/support/parser_memory.py). The
bounds (docs/parser-bounds.md): the parse under the time bound (30 s), and the mail's cost at its
peak (the mail itself and what the parse adds) under four times its size plus 8 MB.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import Any

from services.parser.limits import Limits
from tests.bench.report import Line, conditions, mb, render, status, write_json
from tests.support import hostile_mail
from tests.support.parser_memory import CONSTANT, FACTOR, Figures, measure

TIME_BOUND = Limits().max_seconds


def _cases(parts: int, levels: int, big_mb: float) -> list[tuple[str, str, Callable[[], bytes], bool]]:
    """(section, label, the mail, whether it must be rejected)."""
    limits = Limits()
    many, deep = hostile_mail.many_parts, hostile_mail.deep
    million = "A million parts" if parts == 1_000_000 else f"{parts:,} parts"
    at_limits = "At the limits: parsed"
    cases: list[tuple[str, str, Callable[[], bytes], bool]] = []
    for s in hostile_mail.SPELLINGS:
        cases.append((million, s, partial(many, parts, s), True))
    for s in hostile_mail.SPELLINGS:
        cases.append((f"Nested {levels:,} deep", s, partial(deep, levels, s), True))
    for s in hostile_mail.SPELLINGS:
        cases.append((at_limits, f"{limits.max_parts - 1:,} parts, {s}", partial(many, limits.max_parts - 1, s), False))
    for s in hostile_mail.SPELLINGS:
        cases.append((at_limits, f"nested {limits.max_depth - 1} deep, {s}", partial(deep, limits.max_depth - 1, s), False))
    if big_mb:
        cases.append((at_limits, f"one {big_mb:g} MB attachment",
                      lambda: hostile_mail.big_attachment(int(big_mb * 1e6))[0], False))
    return cases


def _line(label: str, f: Figures, must_reject: bool) -> tuple[Line, bool]:
    outcome_ok = (f.rejected is not None) == must_reject
    ok = outcome_ok and f.seconds < TIME_BOUND and f.cost < f.bound
    outcome = f"rejected ({f.rejected})" if f.rejected else "parsed"
    ratio = f" ({f.cost / f.size:.1f}x)" if f.size >= 1e6 else ""
    value = f"{mb(f.size)}: {f.seconds:.2f} s, peak {mb(f.cost)}{ratio}"
    target = f"{'rejected' if must_reject else 'parsed'}, < {TIME_BOUND:g} s, < {mb(f.bound)}"
    return Line(f"{label}: {outcome}", value, target, status(ok, "FAIL")), ok


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m tests.bench.parser_bounds", description=__doc__)
    p.add_argument("--parts", type=int, default=1_000_000)
    p.add_argument("--levels", type=int, default=100_000)
    p.add_argument("--big-mb", type=float, default=50.0, help="the one big attachment, MB (0: none)")
    p.add_argument("--out", type=Path, default=Path("bench-results"))
    args = p.parse_args(argv)
    sections: dict[str, list[Line]] = {}
    data: dict[str, Any] = {"conditions": conditions(), "time_bound_s": TIME_BOUND, "memory_factor": FACTOR,
                            "memory_constant": CONSTANT, "mails": []}
    all_ok = True
    with tempfile.TemporaryDirectory(prefix="postroom-parser-bounds-") as root:
        mail, store = Path(root) / "mail.eml", Path(root) / "blobs"
        for section, label, make, must_reject in _cases(args.parts, args.levels, args.big_mb):
            print(f"{section}: {label} ...", flush=True)
            mail.write_bytes(make())
            figures = measure(mail, store)
            line, ok = _line(label, figures, must_reject)
            sections.setdefault(section, []).append(line)
            data["mails"].append({"section": section, "label": label, "ok": ok, **vars(figures)})
            all_ok = all_ok and ok
    notes = [f"Peak: VmHWM of a process of its own, from after its imports: the mail itself and all the "
             f"parse adds. Bound: {FACTOR}x the mail + {mb(CONSTANT)}.",
             "Rejected mail goes to the dead-letter queue with the reason; the raw mail stays in the store."]
    print(render("Parser bounds", list(sections.items()), notes))
    print(f"\nJSON: {write_json(args.out, 'parser-bounds', data)}")
    return 0 if all_ok else 1


if __name__ == "__main__":
    sys.exit(main())
