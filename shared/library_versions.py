"""The versions of a library whose private parts a shim was checked against.

A shim (``shared/mailboxes/imapclient_shim.py``, ``shared/mailboxes/poplib_shim.py``) is the one
place that reaches into a library where its public API cannot do the job. It names the versions it
was read against; any other installed version stops the service at start with ``UnverifiedLibrary``
rather than letting it run on internals that may have moved (a renamed attribute would otherwise
show as a missed new mail or a failed login).
"""

from __future__ import annotations

import re
from importlib import metadata


class UnverifiedLibrary(RuntimeError):
    """The installed version of a library is outside the range its shim was checked against."""


def release(version: str) -> tuple[int, ...]:
    """``"5.4.2"`` -> ``(5, 4, 2)``; a pre-release or local suffix is ignored (``"6.0.0rc1"`` -> ``(6, 0, 0)``)."""
    match = re.match(r"\d+(?:\.\d+)*", version.strip())
    if match is None:
        raise UnverifiedLibrary(f"cannot read the version {version!r}")
    return tuple(int(part) for part in match.group(0).split("."))


def require(library: str, low: str, below: str, installed: str | None = None) -> str:
    """Check that ``library`` (default: the installed distribution's version) is ``>= low, < below``."""
    version = installed if installed is not None else metadata.version(library)
    if not release(low) <= release(version) < release(below):
        raise UnverifiedLibrary(
            f"{library} {version} is installed; Postroom's shim for it was checked against "
            f">={low},<{below} only. Install a version in that range, or check the shim against "
            f"{version} and widen the range.")
    return version
