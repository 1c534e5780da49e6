"""The best reading of an address list the stdlib parser gives up on, or reads without a name.

The stdlib parser drops an address it finds invalid (``ann@example.com.``, ``Ann <ann@example..com>``),
gives no address at all for some lists it cannot follow (groups not separated by commas), and
treats the old display-name form ``ann@example.com (Ann Example)`` as an address without a name.
Here a list is split into its addresses the way mail clients do (at commas and semicolons outside
quotes, angle brackets and comments, group names skipped), each address is cleaned of what makes
it invalid (white space, doubled or trailing dots in the domain, doubled ``@``, stray brackets), and the comment
names an address that has no display name. The caller records what was read differently.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

# A system mailbox that reports mail (RFC 2142, and MTAs' own): its bounces often name it alone,
# without a domain. Any other word without a domain is no address anyone can be answered at.
SYSTEM_MAILBOXES = frozenset({"mailer-daemon", "postmaster"})
_SPACES = re.compile(r"\s+")
_DOTS = re.compile(r"\.{2,}")
_ATS = re.compile(r"@{2,}")


@dataclass(frozen=True)
class Reading:
    name: str  # the display name, or the comment when there is none; still RFC 2047-encoded
    address: str  # cleaned, not yet checked
    written: str  # the address as the mail has it, for the defect


def read_list(value: str) -> list[Reading]:
    """The addresses of ``value`` (an unfolded header value), in order."""
    return [reading for piece in _pieces(value) if (reading := _read(piece)) is not None]


def _pieces(value: str) -> list[str]:
    """``value`` split at top-level commas and semicolons, each group's name (``name:``) removed."""
    pieces: list[str] = []
    current: list[str] = []
    depth, angle, quoted, escaped = 0, False, False, False
    for ch in value:
        if escaped:
            escaped = False
        elif ch == "\\":
            escaped = True
        elif quoted:
            quoted = ch != '"'
        elif ch == '"' and not depth:
            quoted = True
        elif ch == "(":
            depth += 1
        elif ch == ")" and depth:
            depth -= 1
        elif depth:
            pass
        elif ch == "<":
            angle = True
        elif ch == ">":
            angle = False
        elif not angle and ch in ",;":
            pieces.append("".join(current))
            current = []
            continue
        elif not angle and ch == ":" and "@" not in "".join(current):
            current = []  # a group's display name
            continue
        current.append(ch)
    pieces.append("".join(current))
    return [piece for piece in pieces if piece.strip()]


def _read(piece: str) -> Reading | None:
    rest, comments = _without_comments(piece)
    if "<" in rest:
        before, _, inside = rest.partition("<")
        spec, name = inside.partition(">")[0], _unquote(before.strip())
    else:
        spec, name = rest, ""
    written = spec.strip()
    address = clean(spec)
    if not address:
        return None
    if not name and comments:
        name = comments[0]
    return Reading(name=" ".join(name.split()), address=address, written=written)


def clean(spec: str) -> str:
    """An address without what makes it invalid but leaves no doubt which address is meant."""
    spec = _SPACES.sub("", spec).strip("<>;,'\"")
    spec = _ATS.sub("@", spec)
    local, at, domain = spec.rpartition("@")
    if not at:
        return spec.strip(".")
    # The local part is the receiving domain's business: ``ann.@docomo.ne.jp`` is delivered.
    if not domain.startswith("["):  # a domain literal is kept as written
        domain = _DOTS.sub(".", domain).strip(".")
    return f"{local}@{domain}" if local and domain else ""


def _without_comments(piece: str) -> tuple[str, list[str]]:
    """The piece without its comments (outside quotes), and the comments' texts, outermost."""
    rest: list[str] = []
    comments: list[str] = []
    current: list[str] = []
    depth, quoted, escaped = 0, False, False
    for ch in piece:
        if escaped:
            escaped = False
            (current if depth else rest).append(ch)
            continue
        if ch == "\\":
            escaped = True
            if not depth:
                rest.append(ch)
            continue
        if quoted:
            quoted = ch != '"'
            rest.append(ch)
        elif ch == '"' and not depth:
            quoted = True
            rest.append(ch)
        elif ch == "(":
            if depth:
                current.append(ch)
            depth += 1
        elif ch == ")" and depth:
            depth -= 1
            if depth:
                current.append(ch)
            else:
                comments.append(" ".join("".join(current).split()))
                current = []
                rest.append(" ")
        elif depth:
            current.append(ch)
        else:
            rest.append(ch)
    return "".join(rest), [c for c in comments if c]


def _unquote(name: str) -> str:
    if len(name) >= 2 and name[0] == '"' and name[-1] == '"':
        return re.sub(r"\\(.)", r"\1", name[1:-1])
    return name.replace('"', "")
