"""The deterministic workload: the same seed gives the same mails, byte for byte, each with its
ground truth (what the pipeline must make of it).

Phase 1 holds the originals (plain, HTML-only, multipart/alternative, attachments, several charsets,
a few automatic and a few malformed mails). Item numbers are assigned while the pipeline runs, so
replies are made in phase 2, after the originals' items exist: half name the item by the token in
the subject (the number is read from the database), half thread by In-Reply-To.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from email.header import Header

from tests.bench import bodies
from tests.bench.texts import CHARSET_WEIGHTS, SAMPLES

DOMAIN = "bench.example"
SUPPORT = f"support@{DOMAIN}"
AUTOMATIC_HEADERS = ("Auto-Submitted: auto-generated", "Precedence: bulk", "X-Autoreply: yes",
                     "Auto-Submitted: auto-replied")
# Malformed on purpose. Those with a reason are refused by the parser's limits (dead letter);
# the others must still become items.
MALFORMED: dict[str, str | None] = {
    "deep-nesting": "MIME nesting deeper than",
    "huge-header": "exceeds the limit",
    "no-from": None,
    "unterminated-multipart": None,
    "unknown-charset": None,
    "raw-8bit-header": None,
}


@dataclass(frozen=True)
class Expect:
    item: str  # "new" | "append" | "none"
    auto_reply: bool
    dead_letter: str | None = None  # a substring of the dead letter's reason
    parent: str | None = None  # for "append": the Message-ID of the original


@dataclass(frozen=True)
class Mail:
    key: str  # also the file name in a drop folder
    kind: str
    message_id: str
    raw: bytes
    expect: Expect


@dataclass(frozen=True)
class Original:
    """What a reply needs to know of its original."""

    message_id: str
    sender: str
    subject: str
    charset: str


def _charset(rng: random.Random) -> str:
    return rng.choices(list(CHARSET_WEIGHTS), weights=list(CHARSET_WEIGHTS.values()))[0]


def _encoded(text: str, charset: str) -> str:
    return Header(text, charset).encode(maxlinelen=900)


def _headers(key: str, n: int, sender: str, name: str, subject: str, charset: str, extra: list[str]) -> bytes:
    lines = [f"From: {_encoded(name, charset)} <{sender}>", f"To: Support <{SUPPORT}>",
             f"Subject: {_encoded(subject, charset)}",
             f"Date: Thu, 26 Nov 2026 {8 + n // 3600 % 12:02d}:{n // 60 % 60:02d}:{n % 60:02d} +0100",
             f"Message-ID: <{key}@{DOMAIN}>", *extra]
    return ("\r\n".join(lines) + "\r\n").encode("ascii")


class Generator:
    def __init__(self, seed: int = 10) -> None:
        self.seed = seed
        self.originals: dict[str, Original] = {}

    def originals_phase(self, count: int, prefix: str = "o", malformed: bool = True,
                        automatic: bool = True) -> list[Mail]:
        rng = random.Random(f"{self.seed}:{prefix}")
        mails = []
        malformed_kinds = list(MALFORMED) if malformed else []
        # Spread the special mails through the stream: about 1 in 60 automatic, 1 in 200 malformed.
        specials = {round((i + 0.5) * count / len(malformed_kinds)): k for i, k in enumerate(malformed_kinds)} \
            if malformed_kinds and count >= 4 * len(malformed_kinds) else {}
        for n in range(count):
            key = f"{prefix}{n:06d}"
            if n in specials:
                mails.append(self._malformed(key, n, specials[n], rng))
            elif automatic and n % 60 == 30:
                mails.append(self._original(key, n, rng, auto=AUTOMATIC_HEADERS[(n // 60) % len(AUTOMATIC_HEADERS)]))
            else:
                mails.append(self._original(key, n, rng))
        return mails

    def _original(self, key: str, n: int, rng: random.Random, auto: str | None = None) -> Mail:
        charset = _charset(rng)
        names, subjects, sentences = SAMPLES[charset]
        sender = f"user.{key}@{rng.choice(('example.com', 'example.org', 'kunde.example', 'clients.example'))}"
        subject = f"{rng.choice(subjects)} ({key})"
        kind = rng.choices(("plain", "html", "alternative"), weights=(40, 20, 40))[0]
        body = bodies.build(kind, charset, rng, sentences, bodies.attachment_sizes(rng), key)
        raw = _headers(key, n, sender, rng.choice(names), subject, charset, [auto] if auto else []) + body
        mid = f"<{key}@{DOMAIN}>"
        if auto is None:
            self.originals[mid] = Original(mid, sender, subject, charset)
        return Mail(key, "automatic" if auto else kind, mid, raw,
                    Expect(item="new", auto_reply=auto is None))

    def _malformed(self, key: str, n: int, kind: str, rng: random.Random) -> Mail:
        mid = f"<{key}@{DOMAIN}>"
        sender = f"user.{key}@example.com"
        head = _headers(key, n, sender, "Mal Formed", f"Malformed {kind} ({key})", "utf-8", [])
        raw = head + bodies.malformed(kind, key)
        if kind == "no-from":
            raw = b"\r\n".join(line for line in raw.split(b"\r\n") if not line.startswith(b"From:"))
        if kind == "raw-8bit-header":
            raw = raw.replace(b"Subject: ", "Subject: Grüße, ça coûte 5 € ".encode(), 1)
        reason = MALFORMED[kind]
        expect = Expect(item="none" if reason else "new", auto_reply=reason is None and kind != "no-from",
                        dead_letter=reason)
        return Mail(key, f"malformed:{kind}", mid, raw, expect)

    def replies_phase(self, count: int, numbers: dict[str, int], prefix: str = "r") -> list[Mail]:
        """Replies to ``count`` originals that have an item (``numbers``: Message-ID -> item number)."""
        rng = random.Random(f"{self.seed}:{prefix}")
        eligible = sorted(mid for mid in self.originals if mid in numbers)
        chosen = rng.sample(eligible, min(count, len(eligible)))
        mails = []
        for n, mid in enumerate(chosen):
            original, key = self.originals[mid], f"{prefix}{n:06d}"
            names, _, sentences = SAMPLES[original.charset]
            by_token = n % 2 == 0
            subject = f"Re: [#{numbers[mid]}] {original.subject}" if by_token else f"Re: {original.subject}"
            extra = [] if by_token else [f"In-Reply-To: {mid}", f"References: {mid}"]
            body = bodies.build("plain", original.charset, rng, sentences, [], key)
            raw = _headers(key, n, original.sender, rng.choice(names), subject, original.charset, extra) + body
            mails.append(Mail(key, "reply:subject-token" if by_token else "reply:in-reply-to", f"<{key}@{DOMAIN}>",
                              raw, Expect(item="append", auto_reply=False, parent=mid)))
        return mails


def big_mail(size: int, key: str = "big000000") -> Mail:
    """One mail of about ``size`` bytes, nearly all of it one base64 attachment."""
    rng = random.Random(key)
    body = bodies.build("plain", "utf-8", rng, SAMPLES["utf-8"][2], [size * 3 // 4 - 4096], key)
    raw = _headers(key, 0, f"user.{key}@example.com", "Big Sender", f"A big attachment ({key})", "utf-8", []) + body
    return Mail(key, "big", f"<{key}@{DOMAIN}>", raw, Expect(item="new", auto_reply=True))
