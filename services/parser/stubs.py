"""A text/plain alternative that only sends the reader elsewhere ("view this mail in your browser"):
newsletters and ticketing systems put one beside the HTML that carries the content. Such a part is
short and says so in a few phrases every sender copies; the HTML's text is the body then."""

from __future__ import annotations

import re

MAX_STUB_CHARS = 600  # a longer plain part carries content of its own, whatever else it says
_PHRASES = re.compile("|".join([
    r"\b(view|read|open|see|display)(ing)?\s+(this|the)\s+(e-?mail|message|mail|newsletter)\s+"
    r"(in|with|on|using)\s+(a|your|the)\s+(web\s*)?browser",
    r"\b(view|read|open)\s+(it\s+)?(online|in\s+(a|your)\s+(web\s*)?browser)",
    r"\b(your\s+)?(e-?mail|mail)\s+(client|program|reader|software)\s+(does\s*n[o']t|can\s*n[o']t|cannot|"
    r"is\s+unable\s+to)\s+(support|display|show|read)",
    r"\b(requires|needs)\s+an?\s+html",
    r"\bhtml[- ]?(capable|compatible|enabled|viewer)",
    r"\bif\s+you\s+(can\s*n[o']t|cannot|are\s+(not\s+)?able\s+to|are\s+unable\s+to|have\s+(trouble|difficulty))"
    r"\s+(to\s+)?(read|see|view|viewing|reading|display)(ing)?\s+this",
    r"\bthis\s+(is\s+an?\s+)?html\s+(e-?mail|message|mail)",
    r"\benable\s+html\b",
    r"\bim\s+(web)?browser\s+(an(sehen|zeigen)|öffnen|lesen)",
    r"\b(afficher|voir|consulter)\s+(ce|le|cet)\s+(message|e-?mail|courriel)\s+dans\s+(votre|un)\s+navigateur",
]), re.IGNORECASE)


# A stub sends the reader somewhere: a phrase without a pointer ("this is the fallback if the email
# client does not support HTML", then text) is a plain part that explains itself, and stays.
_POINTER = re.compile(r"https?://|www\.|\b(click|browser|online|enable|navigateur)", re.IGNORECASE)


def is_stub(text: str) -> bool:
    """``text`` (a text/plain alternative) is a pointer to the HTML, not content."""
    stripped = text.strip()
    if len(stripped) > MAX_STUB_CHARS:
        return False
    if not any(ch.isalnum() for ch in stripped):
        return True
    return _PHRASES.search(stripped) is not None and _POINTER.search(stripped) is not None
