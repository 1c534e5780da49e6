"""Who gets which automatic mail for one item event (before the governor has its say)."""

from __future__ import annotations

from typing import Any

from shared.contracts import Address, ItemChanged

AUTO_REPLY = "auto-reply"


def notification_kind(event: ItemChanged) -> str:
    """The template for the item's notification list: created, status-changed or updated."""
    if event.change == "created":
        return "created"
    change = event.status_change
    if change is not None and (change.from_status != change.to_status or change.from_step != change.to_step):
        return "status-changed"
    return "updated"


def planned_sends(event: ItemChanged, config: dict[str, Any]) -> list[tuple[str, Address]]:
    """The auto-reply to the sender (and Cc, when the account asks), then a notification to each
    address on the item's notification list that the itemwriter put in ``notify``."""
    sends: list[tuple[str, Address]] = []
    if event.auto_reply:
        sender = event.mail.reply_to[0] if event.mail.reply_to else event.mail.from_
        if sender is not None:
            sends.append((AUTO_REPLY, sender))
        if config.get("auto_reply_cc"):
            sends.extend((AUTO_REPLY, cc) for cc in event.mail.cc)
    kind = notification_kind(event)
    sends.extend((kind, watcher) for watcher in event.notify)
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
