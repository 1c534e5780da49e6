"""The yardstick: the Python standard library parsing the same mails on one core, bodies and
attachments decoded. The pipeline (four processes, two cores) should outrun it."""

from __future__ import annotations

import email
import time
from email import policy

from tests.bench.workload import Mail


def parse_fully(raw: bytes) -> int:
    """Parse with ``policy.default`` and decode every leaf part; return the decoded size."""
    msg = email.message_from_bytes(raw, policy=policy.default)
    size = len(str(msg["Subject"] or "")) + len(str(msg["From"] or ""))
    for part in msg.walk():
        if part.is_multipart():
            continue
        try:
            content = part.get_content()
        except (LookupError, ValueError, KeyError):  # an unknown charset: take the bytes
            content = part.get_payload(decode=True) or b""
        size += len(content)
    return size


def stdlib_rate(mails: list[Mail]) -> dict[str, float]:
    """Mails per second parsing every mail once in this one process: by the wall clock (the same
    conditions as the pipeline's figure, which is what the ratio uses) and by CPU time."""
    wall, cpu = time.perf_counter(), time.process_time()
    for mail in mails:
        try:
            parse_fully(mail.raw)
        except RecursionError:  # the deliberately deep mail: the stdlib gives up too
            pass
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    return {"mails": len(mails), "wall_s": wall, "cpu_s": cpu, "per_s_wall": len(mails) / wall,
            "per_s_cpu": len(mails) / cpu if cpu else 0.0}
