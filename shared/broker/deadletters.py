"""What a dead letter says about itself, and what a replay sends back (pure: no broker here).

A dead letter's id is its envelope's ``message_id``: set once by the producer and kept through
retries and dead-lettering, so the same letter has the same id in every ``postroom dlq`` call. A
body that is not an envelope gets ``body-<sha256 prefix>``, which is as stable as the bytes.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import Any

from shared.broker.port import (H_ATTEMPTS, H_DEAD_AT, H_EXCEPTION, H_PREVIOUS_REASON, H_QUEUE, H_REASON,
                                H_REPLAYED_AT, H_REPLAYED_FROM, H_REPLAYS, H_STAGE)

# Dropped from a replayed message: they describe the death being undone, and RabbitMQ's own
# x-death history would otherwise make the replayed message look dead-lettered already.
_DEATH_HEADERS = frozenset({H_STAGE, H_REASON, H_EXCEPTION, H_ATTEMPTS, H_QUEUE, H_DEAD_AT, "x-death",
                            "x-first-death-reason", "x-first-death-queue", "x-first-death-exchange",
                            "x-last-death-reason", "x-last-death-queue", "x-last-death-exchange",
                            "x-delivery-count"})


def _text(value: Any) -> str:
    return value.decode(errors="replace") if isinstance(value, bytes) else str(value)


def _envelope(body: bytes) -> dict[str, Any] | None:
    try:
        data = json.loads(body)
    except (ValueError, UnicodeDecodeError):
        return None
    return data if isinstance(data, dict) else None


@dataclass(frozen=True)
class DeadLetter:
    id: str
    consumer: str
    dlq: str
    body: bytes
    headers: Mapping[str, Any]
    message_id: str | None = None
    correlation_id: str | None = None
    tag: int = field(default=0, repr=False, compare=False)  # the delivery tag on the reading channel
    # The delivery tags of the same letter's other copies in its queue (see ``collapse``).
    copies: tuple[int, ...] = field(default=(), repr=False, compare=False)

    @property
    def envelope(self) -> dict[str, Any] | None:
        return _envelope(self.body)

    @property
    def payload(self) -> dict[str, Any]:
        env = self.envelope or {}
        return env.get("payload") if isinstance(env.get("payload"), dict) else {}  # type: ignore[return-value]

    @property
    def reason(self) -> str:
        if H_REASON in self.headers:
            return _text(self.headers[H_REASON])
        first = self.headers.get("x-first-death-reason")
        if first is not None:  # dead-lettered by RabbitMQ itself, not by the runner
            if _text(first) == "delivery_limit":
                return "delivery limit reached: the consumer died or lost its connection on it every time"
            return f"dead-lettered by RabbitMQ: {_text(first)}"
        return "unknown"

    def summary(self) -> dict[str, Any]:
        env, payload, h = self.envelope, self.payload, self.headers
        raw = payload["raw"] if isinstance(payload.get("raw"), dict) else {}
        mail = payload["mail"] if isinstance(payload.get("mail"), dict) else {}
        return {
            "id": self.id, "queue": self.dlq, "stage": _text(h.get(H_STAGE, self.consumer)),
            "type": env.get("type") if env else None, "decodable": env is not None,
            "correlation_id": (env or {}).get("correlation_id") or self.correlation_id,
            "account": payload.get("account"), "reason": self.reason,
            "exception": _text(h[H_EXCEPTION]) if H_EXCEPTION in h else None,
            "attempts": int(h[H_ATTEMPTS]) if H_ATTEMPTS in h else None,
            "dead_at": _text(h[H_DEAD_AT]) if H_DEAD_AT in h else None,
            "replays": int(h.get(H_REPLAYS, 0)), "copies": 1 + len(self.copies),
            "raw": raw.get("key"), "raw_size": raw.get("size"),
            "mail_message_id": payload.get("message_id") or mail.get("message_id"),
            "subject": payload.get("subject") or mail.get("subject"),
            "size": len(self.body),
        }


def letter_id(body: bytes) -> str:
    env = _envelope(body)
    if env is not None and isinstance(env.get("message_id"), str) and env["message_id"]:
        return env["message_id"]
    return "body-" + hashlib.sha256(body).hexdigest()[:16]


def replay_body(body: bytes) -> bytes:
    """The body with its attempt count reset, so the replayed message gets the whole retry ladder."""
    env = _envelope(body)
    if env is None or "attempt" not in env:
        return body  # not an envelope: sent back as it was (a newer consumer may know it now)
    return json.dumps({**env, "attempt": 0}, separators=(",", ":"), ensure_ascii=False).encode()


def replay_headers(letter: DeadLetter, now: datetime | None = None) -> dict[str, Any]:
    kept = {k: v for k, v in letter.headers.items() if k not in _DEATH_HEADERS}
    return {**kept, H_REPLAYS: int(letter.headers.get(H_REPLAYS, 0)) + 1,
            H_REPLAYED_AT: (now or datetime.now(UTC)).isoformat(), H_REPLAYED_FROM: letter.dlq,
            H_PREVIOUS_REASON: letter.reason[:1000]}


def collapse(letters: Sequence[DeadLetter]) -> list[DeadLetter]:
    """One letter per id and queue, the first read, holding the delivery tags of the others.

    A consumer dead-letters by publishing to its dead-letter queue and then acking the message;
    killed (or cut from the broker) between the two, it gets the message again and dead-letters it
    a second time. Both copies carry the same mail, so an operator sees, replays or discards the
    letter once, and settling it settles every copy.
    """
    first: dict[tuple[str, str], DeadLetter] = {}
    for letter in letters:
        key = (letter.dlq, letter.id)
        if key in first:
            kept = first[key]
            first[key] = replace(kept, copies=(*kept.copies, letter.tag, *letter.copies))
        else:
            first[key] = letter
    return list(first.values())


class NoSuchLetter(LookupError):
    pass


def find(letters: Sequence[DeadLetter], ident: str) -> DeadLetter:
    """The letter with id ``ident``, or the only one whose id starts with it (like a git hash)."""
    exact = [x for x in letters if x.id == ident]
    if exact:
        return exact[0]  # the same id twice is the same message dead-lettered twice: either will do
    ids = sorted({x.id for x in letters if len(ident) >= 4 and x.id.startswith(ident)})
    if len(ids) == 1:
        return next(x for x in letters if x.id == ids[0])
    if ids:
        raise NoSuchLetter(f"{ident!r} is ambiguous: {', '.join(ids)}")
    raise NoSuchLetter(f"no dead letter {ident!r}")
