"""Is this mail from a person, or automatic (RFC 3834 and common practice)? Never auto-reply to the
latter: that is how mail loops start."""

from __future__ import annotations

import re
from email.message import Message

from shared.contracts.mail import Classification

LOOP_HEADER = "X-Postroom-Loop"
_DAEMON = re.compile(r"^(mailer-daemon|postmaster|no-?reply|do-?not-?reply|bounces?)([+-].*)?@", re.I)


def classify(msg: Message, from_address: str | None, own_loop_ids: tuple[str, ...] = ()) -> Classification:
    loop = msg.get(LOOP_HEADER)
    if loop is not None:
        return Classification(kind="own-loop", reason=f"{LOOP_HEADER}: {str(loop)[:100]}")
    ctype = msg.get_content_type()
    if ctype == "multipart/report" and "delivery-status" in str(msg.get_param("report-type", "")).lower():
        return Classification(kind="bounce", reason="multipart/report; report-type=delivery-status")
    return_path = msg.get("Return-Path")
    if return_path is not None and str(return_path).strip() in {"<>", ""}:
        return Classification(kind="bounce" if _is_daemon(from_address) else "auto-reply",
                              reason="null return path (Return-Path: <>)")
    auto = str(msg.get("Auto-Submitted", "")).strip().lower()
    if auto and auto != "no":
        return Classification(kind="auto-reply", reason=f"Auto-Submitted: {auto[:60]}")
    if msg.get("X-Autoreply") is not None or msg.get("X-Autorespond") is not None:
        return Classification(kind="auto-reply", reason="X-Autoreply/X-Autorespond present")
    suppress = str(msg.get("X-Auto-Response-Suppress", "")).lower()
    if any(word in suppress for word in ("all", "autoreply", "oof")):
        return Classification(kind="auto-reply", reason=f"X-Auto-Response-Suppress: {suppress[:60]}")
    precedence = str(msg.get("Precedence", "")).strip().lower()
    if precedence in {"bulk", "junk"}:
        return Classification(kind="bulk", reason=f"Precedence: {precedence}")
    if precedence == "list" or msg.get("List-Id") is not None or msg.get("List-Unsubscribe") is not None:
        return Classification(kind="list", reason="List-Id/List-Unsubscribe or Precedence: list")
    if _is_daemon(from_address):
        return Classification(kind="bounce", reason=f"sender {from_address} is a mail system address")
    return Classification(kind="human", reason="")


def _is_daemon(address: str | None) -> bool:
    return bool(address and _DAEMON.match(address))
