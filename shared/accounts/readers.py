"""One reader per mailbox: two active accounts reading one mailbox would import every mail twice (and
race to delete it). Enforced where accounts are stored (``apply_specs``) and activated.

Two IMAP (or two POP3) accounts read the same mailbox when their hosts resolve to a common address
(``localhost`` and ``127.0.0.1`` are one server; a name that does not resolve is compared as written,
lower-cased), their ports speak the same protocol (993 and 143 are both IMAP, 995 and 110 both POP3;
any other port is compared as a number), their users match without regard to case and, for IMAP,
they read the same folder. Two drop-folder accounts read one mailbox when their paths are one folder.
Inactive accounts read nothing: copies may wait beside the original.
"""

from __future__ import annotations

import os
import socket
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from pydantic import ValidationError
from sqlalchemy import select
from sqlalchemy.orm import Session

from shared.db.models import Account
from shared.mailboxes.mailconfig import ImapConfig, Pop3Config

# The well-known ports of each protocol, plain and implicit TLS: one mailbox whichever is used.
_PROTOCOL_PORTS = {143: "imap", 993: "imap", 110: "pop3", 995: "pop3"}


class MailboxTaken(ValueError):
    """An account would read a mailbox another active account reads already."""


@dataclass(frozen=True)
class Mailbox:
    kind: str
    host: str  # lower-cased, as configured (dropfolder: the folder's real path)
    service: str  # "imap"/"pop3" for a well-known port, else the port number
    user: str  # case-folded
    folder: str | None  # IMAP only; INBOX in any case is INBOX (RFC 3501 5.1)

    def describe(self) -> str:
        if self.kind == "dropfolder":
            return f"drop folder {self.host}"
        folder = f", folder {self.folder}" if self.folder is not None else ""
        return f"{self.kind} mailbox of {self.user} at {self.host}{folder}"


@dataclass(frozen=True)
class Reader:
    name: str
    kind: str
    active: bool
    config: dict[str, Any]


def mailbox_of(kind: str, config: dict[str, Any]) -> Mailbox | None:
    """What identifies the mailbox an account reads; ``None`` for kinds this does not compare (or a
    configuration that is not valid: its own validation refuses it)."""
    if kind == "dropfolder":
        path = config.get("path")
        return Mailbox(kind, os.path.realpath(path), "", "", None) if path else None
    if kind not in ("imap", "pop3"):
        return None
    model = ImapConfig if kind == "imap" else Pop3Config
    try:  # the stored configuration carries the notifier's settings too (smtp:, templates:)
        remote = model.model_validate({k: v for k, v in config.items() if k in model.model_fields})
    except ValidationError:
        return None
    port = remote.resolved_port
    folder = None
    if isinstance(remote, ImapConfig):
        folder = "INBOX" if remote.folder.upper() == "INBOX" else remote.folder
    return Mailbox(kind, remote.host.strip().lower().rstrip("."), _PROTOCOL_PORTS.get(port, str(port)),
                   remote.user.strip().casefold(), folder)


class _Resolver:
    """Host name -> its addresses, asked once per check (``getaddrinfo``); the name itself when it
    does not resolve."""

    def __init__(self) -> None:
        self.known: dict[str, frozenset[str]] = {}

    def __call__(self, host: str) -> frozenset[str]:
        if host not in self.known:
            try:
                found = frozenset(str(info[4][0]) for info in socket.getaddrinfo(host, None))
            except (OSError, UnicodeError):
                found = frozenset()
            self.known[host] = found or frozenset({host})
        return self.known[host]


def _same(a: Mailbox, b: Mailbox, resolve: _Resolver) -> bool:
    if (a.kind, a.service, a.user, a.folder) != (b.kind, b.service, b.user, b.folder):
        return False
    return a.host == b.host or (a.kind != "dropfolder" and bool(resolve(a.host) & resolve(b.host)))


def second_readers(session: Session, changed: Iterable[Reader]) -> list[str]:
    """For each active account in ``changed`` (as it is about to be stored), the other active account
    that reads its mailbox, with the fix, one line each; empty when there is none. The other accounts
    are taken as stored, except those in ``changed``."""
    changed = list(changed)
    mine = {r.name: r for r in changed}
    active = list(session.scalars(select(Account).where(Account.active)))
    reading = {a.name for a in active}  # named as the reader that was there first
    stored = [Reader(a.name, a.kind, a.active, dict(a.config)) for a in active if a.name not in mine]
    everyone = [r for r in [*mine.values(), *stored] if r.active]
    order = list(mine)

    def rank(name: str) -> tuple[bool, int]:  # the one reading already, else the first declared, was there first
        return name not in reading, order.index(name) if name in mine else -1

    resolve, problems, seen = _Resolver(), [], set()
    for reader in mine.values():
        box = mailbox_of(reader.kind, reader.config) if reader.active else None
        if box is None:
            continue
        for other in everyone:
            pair = frozenset({reader.name, other.name})
            if other.name == reader.name or pair in seen:
                continue
            theirs = mailbox_of(other.kind, other.config)
            if theirs is not None and _same(box, theirs, resolve):
                seen.add(pair)
                first, second = sorted((reader.name, other.name), key=rank)
                problems.append(refusal(second, first, box))
    return problems


def refusal(name: str, other: str, box: Mailbox) -> str:
    return (f"{name} would read the {box.describe()}, which the active account {other} reads already: every "
            f"mail would be imported twice. Keep one reader: deactivate {other} first (postroom accounts "
            f"deactivate {other}), or keep {name} inactive (active: false), or point it at another "
            f"{'path' if box.kind == 'dropfolder' else 'user or folder' if box.kind == 'imap' else 'user'}")


def refuse_second_readers(session: Session, changed: Iterable[Reader]) -> None:
    """Raise ``MailboxTaken`` naming every second reader ``changed`` would make."""
    problems = second_readers(session, changed)
    if problems:
        raise MailboxTaken("; ".join(problems))
