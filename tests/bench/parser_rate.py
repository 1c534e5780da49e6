"""``python -m tests.bench.parser_rate``: the parser's own rate, ``normalize`` alone on one core,
over the bench workload's mails (the same 2,000 by default: 70% originals, 30% replies), with the
attachments written to a filesystem blob store as the service does. The stdlib yardstick
(``baseline.stdlib_rate``) runs on the same mails for comparison.

``--profile N`` prints the N costliest functions (cProfile, cumulative time) instead.
"""

from __future__ import annotations

import argparse
import cProfile
import pstats
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

from services.parser.handlers import normalize
from services.parser.limits import Limits
from shared.contracts import BlobRef, MailFetched
from shared.errors import Reject
from shared.store import FilesystemBlobStore
from shared.tokens import ItemTokens
from tests.bench import baseline
from tests.bench.workload import Generator, Mail

FETCHED = MailFetched(account="bench", source="dropfolder", source_id="bench", received_at=datetime.now(UTC),
                      raw=BlobRef(key="sha256:" + "0" * 64, size=1, sha256="0" * 64))


def workload(count: int, seed: int) -> list[Mail]:
    gen = Generator(seed)
    replies_n = round(count * 0.3)
    originals = gen.originals_phase(count - replies_n)
    numbers = {mid: n for n, mid in enumerate(sorted(gen.originals), start=1)}
    return originals + gen.replies_phase(replies_n, numbers)


def parse_all(mails: list[Mail], store: FilesystemBlobStore | None) -> int:
    tokens, limits, rejected = ItemTokens("[#{number}]", "bench-secret"), Limits(), 0
    for mail in mails:
        try:
            normalize(mail.raw, FETCHED, store, tokens, limits).model_dump_json()
        except Reject:
            rejected += 1
    return rejected


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m tests.bench.parser_rate", description=__doc__)
    p.add_argument("--mails", type=int, default=2000)
    p.add_argument("--seed", type=int, default=10)
    p.add_argument("--no-store", action="store_true", help="describe attachments without writing them")
    p.add_argument("--profile", type=int, default=0, metavar="N")
    args = p.parse_args(argv)
    mails = workload(args.mails, args.seed)
    size = sum(len(m.raw) for m in mails)
    with tempfile.TemporaryDirectory(prefix="postroom-parser-rate-") as root:
        store = None if args.no_store else FilesystemBlobStore(Path(root))
        if args.profile:
            profiler = cProfile.Profile()
            profiler.runcall(parse_all, mails, store)
            pstats.Stats(profiler).sort_stats("cumulative").print_stats(args.profile)
            return 0
        wall, cpu = time.perf_counter(), time.process_time()
        rejected = parse_all(mails, store)
        wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    stdlib = baseline.stdlib_rate(mails)
    print(f"normalize: {len(mails)} mails ({size / 1e6:.1f} MB, {rejected} rejected by limits) in {wall:.2f} s wall, "
          f"{cpu:.2f} s CPU: {len(mails) / wall:.0f} mails/s wall, {len(mails) / cpu:.0f} mails/s CPU "
          f"({'no store' if args.no_store else 'filesystem store'}); stdlib parse alone: "
          f"{stdlib['per_s_wall']:.0f} mails/s wall, {stdlib['per_s_cpu']:.0f} mails/s CPU")
    return 0


if __name__ == "__main__":
    sys.exit(main())
