"""What a delivery status notification says about each address it names (RFC 3464 ``Action`` with
RFC 3463 ``Status``), and so whom it flags as failing. Pure.

Only a permanent failure flags an address: ``Action: failed`` with a ``5.x.x`` status. The rest:

- ``Action: delayed`` (``4.x.x``): the reporting server still holds our mail and keeps trying; the
  report is noted on the item and flags nobody.
- ``Action: delayed`` with a ``5.x.x`` status contradicts itself. The action is what the server
  says it did, and it says it will try again, so it is read as delayed: noted, nobody flagged.
  Flagging would stop all mail to an address that may well take the next attempt.
- ``Action: failed`` with a ``4.x.x`` status: the server gave up on a temporary failure (its
  queue lifetime ran out, typically ``4.4.7``). Our mail is lost and the item says so, but nothing
  says the address is bad (the next mail may go through), so nobody is flagged.
- ``Action: failed`` without a readable status (RFC 3464 requires one): as above, failed, not flagged.
- ``delivered``, ``relayed``, ``expanded``: nothing went wrong; noted.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from shared.contracts import DeliveryReport

Verdict = Literal["permanent", "gave-up", "delayed", "delivered", "unknown"]
_DELIVERED = {"delivered", "relayed", "expanded"}


def verdict(report: DeliveryReport) -> Verdict:
    if report.action == "failed":
        return "permanent" if report.status.startswith("5.") else "gave-up"
    if report.action == "delayed":
        return "delayed"
    if report.action in _DELIVERED:
        return "delivered"
    return "unknown"


@dataclass(frozen=True)
class Reading:
    """The report read as a whole: the signal recorded on the item's mail, who is flagged and why."""

    signal: str  # delivery-failure | delivery-delayed | delivery-report
    summary: str  # what happened, per address, for the item's history
    flags: dict[str, str]  # address -> the report's words for it (status, diagnostic)
    lines: list[dict[str, str]]  # per address, for the mail's recorded decision


def read(reports: list[DeliveryReport], recipients: set[str] | None) -> Reading:
    """``recipients``: whom our reported mail went to (the outbox's rows), None when unknown. Only
    those addresses are flagged: a report about an address we never wrote to (a forwarding target,
    a forged report naming one of our Message-IDs) flags nobody, and neither does one about a mail
    whose recipients we do not know."""
    flags: dict[str, str] = {}
    lines: list[dict[str, str]] = []
    for report in reports:
        address, what = report.final_recipient.lower(), verdict(report)
        ours = recipients is not None and address in recipients
        if what == "permanent" and ours:
            flags.setdefault(address, f"{report.status} {report.diagnostic}".strip())
        lines.append({"recipient": address, "action": report.action, "status": report.status, "verdict": what,
                      "flagged": "no" if what != "permanent" else "yes" if ours else
                      "no: whom our mail went to is unknown" if recipients is None else
                      "no: our mail did not go to this address"})
    verdicts = {line["verdict"] for line in lines}
    if not reports:
        return Reading("delivery-failure", "nobody flagged: no report (RFC 3464) names the failed address", {}, [])
    if verdicts & {"permanent", "gave-up"}:
        signal = "delivery-failure"
    elif "delayed" in verdicts:
        signal = "delivery-delayed"
    else:
        signal = "delivery-report"
    return Reading(signal, _summary(lines, flags), flags, lines)


_WORDS = {"permanent": "failed", "gave-up": "gave up", "delayed": "delayed", "delivered": "delivered",
          "unknown": "unclear"}


def _summary(lines: list[dict[str, str]], flags: dict[str, str]) -> str:
    """Who is flagged first: the item's history keeps 200 characters of it, after a long Message-ID."""
    flagged = f"{len(flags)} flagged" if flags else "nobody flagged"
    parts = [f"{line['recipient']} {_WORDS[line['verdict']]}" + (f" ({line['status']})" if line["status"] else "")
             for line in lines[:3]]
    more = f" and {len(lines) - 3} more" if len(lines) > 3 else ""
    return f"{flagged}; {', '.join(parts)}{more}"
