"""Print the entries of a hashed lock file for the named distributions, hashes included:

    python lock_subset.py requirements.lock NAME[==VERSION]...

deploy/Dockerfile makes each dependency layer's requirements with it (from what `pip freeze` lists
for that layer's extra), so that every install in the images checks each wheel against the hashes
of deploy/requirements.lock. A name the lock does not pin, or pins at another version, is an error:
the lock is stale (`make lock`)."""

from __future__ import annotations

import re
import sys
from pathlib import Path


def canonical(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def entries(lock_text: str) -> dict[str, str]:
    """Canonical name -> its requirement line and hash lines, as the lock has them."""
    found: dict[str, list[str]] = {}
    current: list[str] | None = None
    for line in lock_text.splitlines():
        if line and not line[0].isspace() and not line.startswith("#"):
            current = found.setdefault(canonical(re.split(r"[=<>!~ ;\[]", line, maxsplit=1)[0]), [])
            current.append(line)
        elif current is not None and line.strip().startswith("--hash="):
            current.append(line)
        else:
            current = None
    return {name: "\n".join(lines).rstrip(" \\") for name, lines in found.items()}


def subset(lock_text: str, requirements: list[str]) -> str:
    pinned = entries(lock_text)
    wanted: dict[str, str | None] = {}
    for text in requirements:
        name, _, version = text.strip().partition("==")
        wanted[canonical(name)] = version or None
    missing = sorted(n for n in wanted if n not in pinned)
    if missing:
        raise SystemExit(f"not in the lock file: {', '.join(missing)} (run `make lock`)")
    other = sorted(f"{n}=={v}" for n, v in wanted.items() if v and pinned[n].split("==", 1)[1].split()[0] != v)
    if other:
        raise SystemExit(f"pinned at another version in the lock file: {', '.join(other)} (run `make lock`)")
    return "".join(pinned[n] + "\n" for n in sorted(wanted))


if __name__ == "__main__":
    sys.stdout.write(subset(Path(sys.argv[1]).read_text(), sys.argv[2:]))
