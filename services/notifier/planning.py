"""Who gets which automatic mail for one item event (before the governor has its say)."""

from __future__ import annotations

from typing import Any

from shared.contracts import Address, ItemChanged

AUTO_REPLY = "auto-reply"


def planned_sends(event: ItemChanged, config: dict[str, Any]) -> list[tuple[str, Address]]:
    sends: list[tuple[str, Address]] = []
    if event.auto_reply:
        sender = event.mail.reply_to[0] if event.mail.reply_to else event.mail.from_
        if sender is not None:
            sends.append((AUTO_REPLY, sender))
        if config.get("auto_reply_cc"):
            sends.extend((AUTO_REPLY, cc) for cc in event.mail.cc)
    return _unique(sends)


def _unique(sends: list[tuple[str, Address]]) -> list[tuple[str, Address]]:
    seen: set[tuple[str, str]] = set()
    out = []
    for kind, to in sends:
        key = (kind, to.address.lower())
        if key not in seen:
            seen.add(key)
            out.append((kind, to))
    return out
