"""How far the receiving server vouched for the sender: Authentication-Results (RFC 8601).

Only a header whose authserv-id the admin trusts counts; anyone can write such a header, and RFC 8601
§5 has the border MTA remove copies claiming its own id, so the topmost trusted one is the real one.
A header without an authserv-id is never trusted by name. Mail read through Microsoft Graph or the
Gmail API comes straight from the provider, whose own header is the topmost one: such accounts
believe it when the admin names no authserv-id (Microsoft writes its header without an id).

``pass`` is the only verdict that verifies a sender; ``unchecked`` (nothing trusted said anything)
is not ``verified``, and ``fail`` (a trusted server saw DMARC fail, or SPF and DKIM both fail) marks
the sender as forged.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Literal

_EQUALS = re.compile(r"\s*=\s*")
_SPF_FAILED = {"fail", "softfail", "permerror"}
_DKIM_FAILED = {"fail", "none", "neutral", "policy", "permerror"}


@dataclass(frozen=True)
class SenderAuth:
    verdict: Literal["pass", "fail", "unchecked"]
    reason: str
    authserv_id: str | None = None

    @property
    def verified(self) -> bool:
        """A trusted server said pass."""
        return self.verdict == "pass"

    @property
    def failed(self) -> bool:
        """A trusted server said the sender is forged."""
        return self.verdict == "fail"


@dataclass(frozen=True)
class AuthResults:
    authserv_id: str
    results: dict[str, list[str]] = field(default_factory=dict)  # method -> results, in order


def _strip_comments(value: str) -> str:
    """Drop RFC 5322 comments (nested parentheses), keeping quoted strings as they are."""
    out, depth, quoted, escaped = [], 0, False, False
    for ch in value:
        if escaped:
            escaped = False
            if depth == 0:
                out.append(ch)
            continue
        if ch == "\\":
            escaped = True
            if depth == 0:
                out.append(ch)
        elif quoted:
            quoted = ch != '"'
            out.append(ch)
        elif ch == "(":
            depth += 1
        elif ch == ")" and depth:
            depth -= 1
        elif depth == 0:
            quoted = ch == '"'
            out.append(ch)
    return "".join(out)


def parse(value: str) -> AuthResults | None:
    """One header value: ``authserv-id [version]; method=result ...; ...`` (RFC 8601 §2.2)."""
    parts = [p.strip() for p in _strip_comments(value).split(";")]
    head = parts[0].split()
    if not head:
        return None
    authserv_id = "" if "=" in head[0] else head[0].lower()  # "spf=pass ...": no authserv-id at all
    results: dict[str, list[str]] = {}
    for resinfo in parts[0 if not authserv_id else 1:]:
        tokens = _EQUALS.sub("=", resinfo).split()
        if not tokens or "=" not in tokens[0]:
            continue  # "none", or something we cannot read: no result
        method, _, result = tokens[0].partition("=")
        results.setdefault(method.split("/")[0].lower(), []).append(result.strip('"').lower())
    return AuthResults(authserv_id=authserv_id, results=results)


# Account kinds whose mail comes straight from the provider's own store.
PROVIDER_KINDS = frozenset({"graph", "gmail"})


def trusts_nothing(kind: str, trusted_ids: Iterable[str]) -> bool:
    """No header can verify this account's senders."""
    return not any(trusted_ids) and kind not in PROVIDER_KINDS


def trust_summary(kind: str, trusted_ids: Iterable[str]) -> str:
    """What the account believes, in words (recorded on each mail's decision when it is nothing)."""
    ids = sorted({t.lower() for t in trusted_ids})
    if ids:
        return "Authentication-Results from " + ", ".join(ids)
    if kind in PROVIDER_KINDS:
        return "the provider's own Authentication-Results (the topmost header)"
    return "nothing: no authserv-id is trusted, so no sender is verified (set trusted_authserv_ids)"


def assess(headers: Iterable[str], trusted_ids: Iterable[str], kind: str = "") -> SenderAuth:
    trusted = {t.lower() for t in trusted_ids}
    parsed = [r for r in map(parse, headers) if r is not None]
    if trusted:
        found = next((r for r in parsed if r.authserv_id and r.authserv_id in trusted), None)
    elif kind in PROVIDER_KINDS:
        found = parsed[0] if parsed else None
    else:
        return SenderAuth("unchecked", "the account trusts no authserv-id")
    if found is None:
        return SenderAuth("unchecked", "no Authentication-Results from a trusted server")
    dmarc, spf, dkim = (found.results.get(m, []) for m in ("dmarc", "spf", "dkim"))
    authserv = found.authserv_id or None
    where = f"Authentication-Results from {authserv or 'the provider'}"
    if not (dmarc or spf or dkim):
        return SenderAuth("unchecked", f"no DMARC, SPF or DKIM result ({where})", authserv)
    if "pass" in dmarc:
        return SenderAuth("pass", f"dmarc=pass ({where})", authserv)
    if "fail" in dmarc:
        return SenderAuth("fail", f"dmarc=fail ({where})", authserv)
    spf_failed = bool(spf) and all(r in _SPF_FAILED for r in spf)
    dkim_failed = "pass" not in dkim and all(r in _DKIM_FAILED for r in dkim)
    summary = f"spf={','.join(spf) or 'absent'} dkim={','.join(dkim) or 'absent'}"
    if spf_failed and dkim_failed:
        return SenderAuth("fail", f"SPF and DKIM both failed: {summary} ({where})", authserv)
    if "pass" in spf or "pass" in dkim:
        return SenderAuth("pass", f"{summary} ({where})", authserv)
    return SenderAuth("unchecked", f"neither SPF nor DKIM passed: {summary} ({where})", authserv)
