"""An image's package set without building the image: the distributions its extras pull in (resolved
from this environment's installed metadata, the same versions pip resolves), and a ``postroom`` run
in which every other installed distribution cannot be imported.

The image installs exactly ``pip freeze`` of ``postroom[EXTRAS]`` (deploy/Dockerfile's builder), which
is this closure; a venv with only those distributions would take minutes and the network to build
per image, while hiding the rest from the import system gives the same ``No module named`` at once.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterable, Mapping
from importlib import metadata
from pathlib import Path

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

# Our own packages: in the image as the postroom wheel.
_OURS = {"services", "shared", "tests"}

# Run as ``python -c``: hide the modules named in POSTROOM_ABSENT_MODULES, then run the command line.
_RUN = """
import importlib.abc, os, sys
absent = frozenset(os.environ.pop("POSTROOM_ABSENT_MODULES").split(","))
class NotInTheImage(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        if name.partition(".")[0] in absent:
            raise ModuleNotFoundError(f"No module named {name!r}", name=name)
        return None
for loaded in [m for m in sys.modules if m.partition(".")[0] in absent]:  # imported by site, before us
    del sys.modules[loaded]
sys.meta_path.insert(0, NotInTheImage())
from services.cli.main import cli
cli(args=sys.argv[1:], prog_name="postroom")
"""


def distributions(requirements: Iterable[str]) -> set[str]:
    """The canonical names of ``requirements`` and everything they require, markers evaluated here."""
    found: set[str] = set()
    seen: set[tuple[str, frozenset[str]]] = set()  # a distribution again with other extras adds their requirements
    todo = [Requirement(r) for r in requirements]
    while todo:
        requirement = todo.pop()
        name = canonicalize_name(requirement.name)
        if (name, frozenset(requirement.extras)) in seen:
            continue
        seen.add((name, frozenset(requirement.extras)))
        found.add(name)
        extras = {"", *requirement.extras}
        for text in metadata.requires(requirement.name) or []:
            nested = Requirement(text)
            if nested.marker is None or any(nested.marker.evaluate({"extra": e}) for e in extras):
                todo.append(nested)
    return found


def absent_modules(present: set[str]) -> set[str]:
    """Top-level modules installed here that only distributions outside ``present`` provide."""
    return {module for module, dists in metadata.packages_distributions().items()
            if module not in _OURS and not any(canonicalize_name(d) in present for d in dists)}


def run_postroom(args: list[str], present: set[str], env: Mapping[str, str], cwd: Path,
                 stdin: bytes = b"") -> tuple[int, str]:
    """``postroom ARGS`` with only the ``present`` distributions importable: its exit code and output."""
    full_env = {**os.environ, **env, "POSTROOM_ABSENT_MODULES": ",".join(sorted(absent_modules(present)))}
    done = subprocess.run([sys.executable, "-c", _RUN, *args], input=stdin, capture_output=True, env=full_env,
                          cwd=cwd, timeout=120)
    return done.returncode, (done.stdout + done.stderr).decode(errors="replace")
