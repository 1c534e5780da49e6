"""Who hears about a change: the auto-reply to the sender and notifications to the item's list,
with the account's settings applied, and a reason for everyone who gets nothing. Pure."""

from __future__ import annotations

from dataclasses import dataclass, field

from shared.contracts import Address, Withheld


@dataclass(frozen=True)
class Situation:
    change: str  # created | appended
    sender: str | None
    sender_verified: bool
    automatic: bool
    archive: bool
    delivery_failure: bool
    account_auto_reply: bool
    quiet_on_create: bool


@dataclass
class Recipients:
    auto_reply: bool
    notify: list[Address] = field(default_factory=list)
    withheld: list[Withheld] = field(default_factory=list)


def _auto_reply_refusal(s: Situation) -> str | None:
    if not s.account_auto_reply:
        return "the account sends no auto-reply"
    if s.change != "created":
        return "auto-replies go out for new items only"
    if s.archive:
        return "imported as archive: nothing is sent"
    if s.delivery_failure:
        return "a delivery failure report is never answered"
    if not s.sender_verified:
        return "the sender is unverified: the real owner of the address did not write"
    return None


def _notify_refusal(s: Situation) -> str | None:
    if s.archive:
        return "imported as archive: nothing is sent"
    if s.delivery_failure:
        return "a delivery failure report is recorded, not announced"
    if s.automatic:
        return "automatic mail is recorded, not announced"
    return None


def _sender_refusal(s: Situation) -> str | None:
    """The sender on the list: told of a new item only when the account is not quiet on create."""
    if s.change != "created":
        return "wrote this mail"
    if s.quiet_on_create:
        return "new item: the account sends its sender no separate notification (quiet_on_create)"
    return None


def recipients(s: Situation, notify_list: list[tuple[str, str]], failing: set[str]) -> Recipients:
    """``notify_list`` is (address, name) in list order; ``failing`` are addresses known to bounce."""
    refusal = _auto_reply_refusal(s)
    out = Recipients(auto_reply=refusal is None)
    if refusal is not None and s.sender:
        out.withheld.append(Withheld(address=s.sender, kind="auto-reply", reason=refusal))
    list_refusal = _notify_refusal(s)
    for address, name in notify_list:
        if list_refusal is not None:
            reason = list_refusal
        elif address == s.sender and (sender_refusal := _sender_refusal(s)) is not None:
            reason = sender_refusal
        elif address in failing:
            reason = "mail to this address bounced (flagged as failing)"
        else:
            out.notify.append(Address(name=name, address=address))
            continue
        out.withheld.append(Withheld(address=address, kind="notification", reason=reason))
    return out
