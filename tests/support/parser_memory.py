"""The parser's wall time and peak memory on one mail, measured in a fresh process.

VmHWM is the high-water mark of the whole process, so each mail gets its own. Three marks: after the
imports (``base``), after the mail is read (``before``) and after ``normalize`` (``peak``). What the
mail costs is ``peak - base``: the mail itself and all the parse adds to it.
"""

from __future__ import annotations

import json
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
# The memory bound (docs/parser-bounds.md): a mail costs the parse under four times its size plus
# this, what any mail costs (the parse's caches, the interpreter's arenas).
FACTOR = 4
CONSTANT = 8_000_000

_MEASURE = """
import json, sys, time
from pathlib import Path
from datetime import UTC, datetime
from services.parser.handlers import normalize
from services.parser.limits import Limits
from shared.contracts import BlobRef, MailFetched
from shared.errors import Reject
from shared.store import FilesystemBlobStore
from shared.tokens import ItemTokens

def status(key):
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(key + ":"):
            return int(line.split()[1]) * 1024

base = status("VmHWM")
raw = Path(sys.argv[1]).read_bytes()
limits = Limits(**json.loads(sys.argv[3]))
fetched = MailFetched(account="t", source="stdin", source_id="t", received_at=datetime.now(UTC),
                      raw=BlobRef(key="sha256:" + "0" * 64, size=len(raw), sha256="0" * 64))
before = status("VmHWM")
started = time.perf_counter()
try:
    store = FilesystemBlobStore(Path(sys.argv[2])) if sys.argv[2] else None
    parsed = normalize(raw, fetched, store, ItemTokens("[#{number}]", "s"), limits)
    rejected, sizes, sha256 = None, [a.size for a in parsed.attachments], [a.sha256 for a in parsed.attachments]
except Reject as exc:
    rejected, sizes, sha256 = str(exc), [], []
seconds = time.perf_counter() - started
print(json.dumps({"size": len(raw), "base": base, "before": before, "peak": status("VmHWM"), "seconds": seconds,
                  "rejected": rejected, "sizes": sizes, "sha256": sha256}))
"""


@dataclass(frozen=True)
class Figures:
    size: int  # the mail's
    base: int  # VmHWM after the imports
    before: int  # and once the mail is read
    peak: int  # and after the parse
    seconds: float  # normalize, wall clock
    rejected: str | None  # the Reject's reason, or None: parsed
    sizes: list[int] = field(default_factory=list)  # of the attachments
    sha256: list[str] = field(default_factory=list)

    @property
    def cost(self) -> int:
        """The bytes the mail held at its peak: itself and what the parse added."""
        return self.peak - self.base

    @property
    def bound(self) -> int:
        return FACTOR * self.size + CONSTANT

    @property
    def over_the_mail(self) -> int:
        """What the parse added over the mail it was handed."""
        return self.peak - self.before


def measure(mail: Path, store: Path | None, limits: dict[str, object] | None = None, timeout: float = 300) -> Figures:
    """``normalize`` on the mail in ``mail`` with ``Limits(**limits)``, in a process of its own; the
    attachments go to a filesystem store at ``store``, or are only described (None)."""
    done = subprocess.run([sys.executable, "-c", _MEASURE, str(mail), str(store or ""), json.dumps(limits or {})],
                          cwd=ROOT, capture_output=True, text=True, timeout=timeout)
    if done.returncode != 0:
        raise RuntimeError(f"the measuring process failed: {done.stderr.strip()[-2000:]}")
    return Figures(**json.loads(done.stdout))
