"""MIME bodies for the workload: built with the standard library, boundaries made deterministic."""

from __future__ import annotations

import random
from collections.abc import Sequence
from email import policy
from email.message import EmailMessage
from html import escape

from tests.bench.texts import FILLER

_SMTP = policy.default.clone(linesep="\r\n", max_line_length=78)
_NAMES = ("report.pdf", "Rechnung_März.pdf", "screenshot.png", "journal.log", "données.csv", "見積書.xlsx")


def attachment_sizes(rng: random.Random) -> list[int]:
    """0 to 3 attachments of 10 KB to 1 MB (log-uniform), mostly none: the average mail stays near 20 KB."""
    count = rng.choices((0, 1, 2, 3), weights=(950, 35, 10, 5))[0]
    return [int(10_000 * 100 ** rng.random()) for _ in range(count)]


def _text(rng: random.Random, sentences: Sequence[str]) -> str:
    paragraphs = [" ".join(rng.choice(sentences) for _ in range(rng.randint(1, 4))) for _ in range(rng.randint(1, 4))]
    paragraphs.append(FILLER * rng.randint(1, 20))
    return "Hello,\n\n" + "\n\n".join(paragraphs) + "\n\nRegards\n"


def _html(text: str) -> str:
    paragraphs = "".join(f"<p style=\"margin:0 0 1em\">{escape(p)}</p>" for p in text.split("\n\n"))
    return f"<html><head><style>p {{ font-family: sans-serif }}</style></head><body>{paragraphs}</body></html>"


def build(kind: str, charset: str, rng: random.Random, sentences: Sequence[str], attachments: Sequence[int],
          key: str) -> bytes:
    """The MIME entity (its own headers and body) of one mail: ``kind`` is plain, html or alternative."""
    msg = EmailMessage(policy=_SMTP)
    text = _text(rng, sentences)
    if kind == "html":
        msg.set_content(_html(text), subtype="html", charset=charset)
    else:
        msg.set_content(text, charset=charset)
        if kind == "alternative":
            msg.add_alternative(_html(text), subtype="html", charset=charset)
    for i, size in enumerate(attachments):
        msg.add_attachment(rng.randbytes(size), maintype="application", subtype="octet-stream",
                           filename=f"{i}-{rng.choice(_NAMES)}")
    for i, part in enumerate(p for p in msg.walk() if p.is_multipart()):
        part.set_boundary(f"=_{key}_{i}")
    return msg.as_bytes(policy=_SMTP)


def malformed(kind: str, key: str) -> bytes:
    """The MIME entity of a deliberately malformed mail (``no-from`` and ``raw-8bit-header`` are
    malformed in the top headers; their bodies are ordinary)."""
    if kind == "deep-nesting":
        depth = 45
        head = "".join(f'Content-Type: multipart/mixed; boundary="b{i}"\r\n\r\n--b{i}\r\n' for i in range(depth))
        tail = "".join(f"\r\n--b{i}--\r\n" for i in reversed(range(depth)))
        return ("MIME-Version: 1.0\r\n" + head + "Content-Type: text/plain\r\n\r\ndeep\r\n" + tail).encode()
    if kind == "huge-header":
        return ("X-Bench-Huge: " + "x" * 70_000 + "\r\nContent-Type: text/plain\r\n\r\nhuge header\r\n").encode()
    if kind == "unterminated-multipart":
        return (f'MIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary="{key}"\r\n\r\n'
                f"--{key}\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nThe closing boundary never comes.\r\n"
                f"--{key}\r\nContent-Type: text/plain\r\n\r\ntruncated in transit").encode()
    if kind == "unknown-charset":
        return (b"MIME-Version: 1.0\r\nContent-Type: text/plain; charset=x-no-such-charset\r\n"
                b"Content-Transfer-Encoding: 8bit\r\n\r\n") + "Grüße aus Köln\r\n".encode("latin-1")
    return b"MIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nAn ordinary body.\r\n"
