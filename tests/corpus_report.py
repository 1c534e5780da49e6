"""``make corpus``: the pass rate per corpus source, and what failed, for a person to read."""

from __future__ import annotations

import json
import sys
import time
from collections import defaultdict

from tests.support.corpus import CORPUS, KNOWN, OUT_OF_SCOPE, cases


def main() -> int:
    started = time.monotonic()
    results: dict[str, list[tuple[str, list[str]]]] = defaultdict(list)
    for case in cases():
        try:
            diffs = case.check()
        except Exception as exc:  # a crash is a failure to report, not a reason to stop
            diffs = [f"raised {type(exc).__name__}: {exc}"]
        results[case.source].append((f"{case.source}:{case.id}", diffs))
    unexpected = 0
    print(f"{'source':24} {'pass':>6} {'cases':>6} {'rate':>7} {'known':>6}")
    for source, rows in results.items():
        passed = sum(1 for _, d in rows if not d)
        known = sum(1 for key, d in rows if d and key in KNOWN)
        print(f"{source:24} {passed:6} {len(rows):6} {passed / len(rows):7.1%} {known:6}")
    for stem, why in OUT_OF_SCOPE.items():
        count = len(json.loads((CORPUS / "stalwart-mail-parser" / "headers" / f"{stem}.json").read_text()))
        print(f"  not checked: headers/{stem}.json ({count} vectors): {why}")
    for rows in results.values():
        for key, diffs in rows:
            if diffs:
                tag = "known" if key in KNOWN else "FAIL"
                unexpected += tag == "FAIL"
                print(f"\n{tag} {key}" + (f"  ({KNOWN[key]})" if key in KNOWN else ""))
                for diff in diffs[:5]:
                    print(f"    {diff}")
    print(f"\n{unexpected} unexpected failure(s); {time.monotonic() - started:.1f}s")
    return 1 if unexpected else 0


if __name__ == "__main__":
    sys.exit(main())
