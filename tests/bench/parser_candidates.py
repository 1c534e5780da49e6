"""``python -m tests.bench.parser_candidates``: faster mail parsers, measured against ours before
any is adopted. Each candidate reads the shared corpus's mails (``../shared/corpus/**/*.eml``) and
the bench workload's, and is compared field by field with what ``normalize`` publishes (which the
corpus tests hold to the corpus's expectations): subject, sender, recipients, date, the body text,
and the attachments' names, sizes, bytes and inline flags; a mail one side refuses and the other
reads is a difference too. Then each one's CPU per mail on the workload, beside the standard
library (``baseline.parse_fully``) and ``normalize``.

A candidate is only worth a fast path when every field agrees on every mail: the fast path must
publish what the slow one does. (The published ``defects`` are not compared: they name what the
stdlib parser noticed, which no other parser reports alike, so even a candidate that agreed
everywhere here would need the stdlib's defect names for its mails.) Candidates not installed are skipped (``pip install
fast-mail-parser mail-parser``; neither is a dependency of the project).
"""

from __future__ import annotations

import argparse
import logging
import hashlib
import sys
import time
from collections import Counter, defaultdict
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from services.parser.headers import one_line
from services.parser.html import to_text
from services.parser.filenames import clean_filename, fallback_name
from services.parser.limits import Limits, check_shape
from shared.contracts import BlobRef, MailFetched, MailParsed
from shared.errors import Reject
from shared.tokens import ItemTokens
from tests.bench.baseline import parse_fully
from tests.bench.parser_rate import workload
from tests.support.corpus import CORPUS

View = dict[str, Any]
FIELDS = ("outcome", "subject", "from", "to", "cc", "date", "text", "attachment names", "attachment sizes",
          "attachment bytes", "inline")
_FETCHED = MailFetched(account="bench", source="file", source_id="candidates", received_at=datetime.now(UTC),
                       raw=BlobRef(key="k", size=1, sha256="0" * 64))
_TOKENS = ItemTokens("[#{number}]", "bench-secret")


def _body(text: str) -> str:
    """Body text compared without line-ending and edge white-space differences."""
    return text.replace("\r\n", "\n").replace("\r", "\n").strip()


def _sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()[:12]


def _parse_ours(raw: bytes) -> MailParsed:
    from services.parser.handlers import normalize

    return normalize(raw, _FETCHED, None, _TOKENS, Limits())


def ours(raw: bytes) -> View:
    try:
        got = _parse_ours(raw)
    except Reject:
        return {"outcome": "refused"}
    return {"outcome": "read", "subject": got.subject,
            "from": (got.from_.name, got.from_.address) if got.from_ else None,
            "to": [(a.name, a.address) for a in got.to], "cc": [(a.name, a.address) for a in got.cc],
            "date": got.date.astimezone(UTC).isoformat() if got.date else None, "text": _body(got.text),
            "attachment names": [a.filename for a in got.attachments],
            "attachment sizes": [a.size for a in got.attachments],
            "attachment bytes": [a.sha256[:12] for a in got.attachments],
            "inline": [a.inline for a in got.attachments]}


def _checked(raw: bytes) -> bool:
    """The limits are checked before any parser runs, a fast one too: what they refuse, both refuse."""
    try:
        check_shape(raw, Limits())
    except Reject:
        return False
    return True


def _names(names: list[str], types: list[str]) -> list[str]:
    """Attachment names as we would publish the candidate's: made safe, a fallback for none."""
    return [clean_filename(name, fallback_name(ctype, n))[0] for n, (name, ctype) in enumerate(zip(names, types, strict=False), 1)]


def fast_mail_parser(raw: bytes) -> View:
    import fast_mail_parser as fmp

    if not _checked(raw):
        return {"outcome": "refused"}
    try:
        mail = fmp.parse_email(raw)
    except fmp.ParseError:
        return {"outcome": "refused"}

    def addr(a: Any) -> tuple[str, str]:
        return (one_line(a.display_name or ""), a.address)

    # Our rule for the body: the plain parts, else the HTML's text.
    text = "\n\n".join(mail.text_plain) if mail.text_plain else "\n\n".join(to_text(h) for h in mail.text_html)
    return {"outcome": "read", "subject": one_line(mail.subject), "from": addr(mail.from_) if mail.from_ else None,
            "to": [addr(a) for a in mail.to], "cc": [addr(a) for a in mail.cc],
            "date": mail.date_parsed.astimezone(UTC).isoformat() if mail.date_parsed else None, "text": _body(text),
            "attachment names": _names([a.filename for a in mail.attachments], [a.mimetype for a in mail.attachments]),
            "attachment sizes": [len(a.content) for a in mail.attachments],
            "attachment bytes": [_sha(a.content) for a in mail.attachments],
            "inline": [a.disposition == "inline" or (a.disposition is None and a.content_id is not None)
                       for a in mail.attachments]}


def mail_parser(raw: bytes) -> View:
    import base64

    import mailparser

    logging.getLogger("mailparser").setLevel(logging.CRITICAL)  # it logs every part type it does not handle
    if not _checked(raw):
        return {"outcome": "refused"}
    try:
        mail = mailparser.parse_from_bytes(raw)
    except Exception:
        return {"outcome": "refused"}

    def addrs(pairs: list[tuple[str, str]]) -> list[tuple[str, str]]:
        return [(one_line(name or ""), address) for name, address in pairs]

    def content(a: dict[str, Any]) -> bytes:
        payload = a["payload"]
        return base64.b64decode(payload) if a.get("binary") else payload.encode("utf-8", "surrogateescape")

    text = "\n\n".join(mail.text_plain) if mail.text_plain else "\n\n".join(to_text(h) for h in mail.text_html)
    froms = addrs(mail.from_)
    return {"outcome": "read", "subject": one_line(mail.subject or ""), "from": froms[0] if froms else None,
            "to": addrs(mail.to), "cc": addrs(mail.cc),
            "date": mail.date.replace(tzinfo=UTC).isoformat() if mail.date else None, "text": _body(text),
            "attachment names": _names([a["filename"] for a in mail.attachments],
                                       [a["mail_content_type"] for a in mail.attachments]),
            "attachment sizes": [len(content(a)) for a in mail.attachments],
            "attachment bytes": [_sha(content(a)) for a in mail.attachments],
            "inline": [a.get("content-disposition", "").startswith("inline") for a in mail.attachments]}


CANDIDATES: dict[str, tuple[str, Callable[[bytes], View], Callable[[bytes], object]]] = {
    # name: (module to import, the comparable view, the bare parse timed for speed)
    "fast-mail-parser": ("fast_mail_parser", fast_mail_parser, lambda raw: __import__("fast_mail_parser").parse_email(raw)),
    "mail-parser": ("mailparser", mail_parser, lambda raw: __import__("mailparser").parse_from_bytes(raw)),
}


def corpus_mails() -> list[tuple[str, bytes]]:
    return [(str(p.relative_to(CORPUS)), p.read_bytes()) for p in sorted(CORPUS.rglob("*.eml"))]


def compare(name: str, view: Callable[[bytes], View], mails: list[tuple[str, bytes]],
            reference: dict[str, View], examples: int) -> tuple[Counter[str], dict[str, list[str]]]:
    differ: Counter[str] = Counter()
    mails_differing: set[str] = set()
    shown: dict[str, list[str]] = defaultdict(list)
    for key, raw in mails:
        want = reference[key]
        try:
            got = view(raw)
        except Exception as exc:  # a candidate that crashes on a mail is a difference, not the end of the run
            got = {"outcome": f"crashed ({type(exc).__name__})"}
        for field in FIELDS:
            if field != "outcome" and (want["outcome"], got["outcome"]) != ("read", "read"):
                continue
            if got.get(field) != want.get(field):
                differ[field] += 1
                mails_differing.add(key)
                if len(shown[field]) < examples:
                    shown[field].append(f"{key}: ours {_short(want.get(field))}, {name} {_short(got.get(field))}")
    differ["any field"] = len(mails_differing)
    return differ, shown


def _short(value: object) -> str:
    text = repr(value)
    return text if len(text) <= 110 else text[:107] + "..."


def cpu_per_mail(parse: Callable[[bytes], object], raws: list[bytes], rounds: int) -> float:
    """Milliseconds of CPU per mail, the best of ``rounds`` runs (the machine is shared)."""
    best = float("inf")
    for _ in range(rounds):
        start = time.process_time()
        for raw in raws:
            try:
                parse(raw)
            except Exception:  # the refusals and the deliberately broken mails cost what they cost
                pass
        best = min(best, time.process_time() - start)
    return best / len(raws) * 1000


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m tests.bench.parser_candidates", description=__doc__)
    p.add_argument("--mails", type=int, default=2000, help="workload mails (default 2,000)")
    p.add_argument("--seed", type=int, default=10)
    p.add_argument("--rounds", type=int, default=3, help="timed runs per parser; the best counts")
    p.add_argument("--examples", type=int, default=3, help="differences shown per field")
    args = p.parse_args(argv)
    sets = {"corpus": corpus_mails(),
            "workload": [(f"workload #{n}", m.raw) for n, m in enumerate(workload(args.mails, args.seed))]}
    reference = {key: ours(raw) for mails in sets.values() for key, raw in mails}
    raws = [raw for _, raw in sets["workload"]]
    print(f"Mails: {len(sets['corpus'])} from the corpus, {len(raws)} from the workload. Reference: normalize.\n")
    print(f"CPU per mail on the workload (best of {args.rounds}):")
    print(f"  {'stdlib (policy.default, all parts decoded)':44} {cpu_per_mail(parse_fully, raws, args.rounds):6.3f} ms")
    print(f"  {'normalize (ours, whole message published)':44} {cpu_per_mail(_parse_ours, raws, args.rounds):6.3f} ms")
    available = {}
    for name, (module, view, parse) in CANDIDATES.items():
        try:
            __import__(module)
        except ImportError:
            print(f"  {name:44} not installed, skipped")
            continue
        available[name] = view
        print(f"  {name:44} {cpu_per_mail(parse, raws, args.rounds):6.3f} ms  (its parse alone)")
    for name, view in available.items():
        print(f"\n{name}: mails where a field differs from ours")
        print(f"  {'field':18} {'corpus':>8} {'workload':>9}")
        found = {label: compare(name, view, mails, reference, args.examples) for label, mails in sets.items()}
        for field in (*FIELDS, "any field"):
            print(f"  {field:18} {found['corpus'][0][field]:8d} {found['workload'][0][field]:9d}")
        for label, (_, shown) in found.items():
            for field in FIELDS:
                for line in shown.get(field, []):
                    print(f"    [{label}] {field}: {line}")
        same = not any(counts for counts, _ in found.values())
        print(f"  verdict: {'identical on every mail' if same else 'not identical: no fast path'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
