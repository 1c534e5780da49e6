"""A reply's new text, apart from the quoted history and the signature, for appending to an item.

Rules, not a model: the mail clients' own marks. The quoted history starts at the first of a
reply-above delimiter, an "-----Original Message-----" or Outlook rule, an "On ... wrote:"
attribution (one to three lines, in the languages we see), an Outlook "From:/Sent:" header block,
or a ``>``-quoted line. A bottom-posted reply (nothing above the quote) keeps its unquoted lines.
The signature is the text after a ``-- `` style rule near the end, a "Sent from my ..." line, or a
short last paragraph that names the sender. The full text is always published beside it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

_DELIMITER = re.compile(
    r"^\s*(?:-{2,}\s*)?(?:reply above (?:this|the) line|please reply above|"
    r"-*\s*original message\s*-*|-*\s*urspr(?:ü|ue)ngliche nachricht\s*-*|-*\s*message d'origine\s*-*|"
    r"-*\s*mensaje original\s*-*|_{20,})", re.I)
_ATTRIBUTION = re.compile(
    r"^(?:on|am|le|el|il|op|em|w dniu|den|på)\s.{4,300}(?:wrote|schrieb|a écrit|escribió|ha scritto|"
    r"schreef|escreveu|napisał|skrev|kirjoitti)\s*:$", re.I)
_DATED_ATTRIBUTION = re.compile(r"^.{0,200}(?:\d{1,4}[./-]\d{1,2}[./-]\d{1,4}|\d{1,2}:\d{2}).{0,200}:$")
_FROM = re.compile(r"^\**(?:from|de|von|van|от|da|od|från|fra)\s*:\**\s*\S", re.I)
_SENT = re.compile(r"^\**(?:sent|date|gesendet|datum|envoyé|enviado|отправлено|inviato|data|skickat|"
                   r"to|subject|an|betreff|objet|à|кому|тема)\s*:", re.I)
_RULE = re.compile(r"^\s*(?:--\s?|-{2,}|_{2,}|—)\s*$")
_MOBILE = re.compile(r"^\s*(?:sent from my |sent from (?:mail|outlook) for |get outlook for |"
                     r"sent via |envoyé de mon |von meinem .* gesendet)", re.I)
_QUOTED = re.compile(r"^\s*>")
MAX_SIGNATURE_LINES = 20


@dataclass(frozen=True)
class Reply:
    text: str  # the new text, without quoted history or signature
    signature: str


def extract_reply(text: str, sender: str = "") -> Reply:
    new = strip_quote(text)
    body, signature = split_signature(new, sender)
    return Reply(text=body, signature=signature)


def strip_quote(text: str) -> str:
    lines = text.replace("\r\n", "\n").split("\n")
    start = _quote_start(lines)
    if start is None:
        return text.strip()
    above = "\n".join(lines[:start]).strip()
    if above:
        return above
    # Bottom-posted: keep what is not quoted, cut again at any later history.
    rest = [line for line in lines[start + 1:] if not _QUOTED.match(line)]
    again = _quote_start(rest)
    return "\n".join(rest[:again] if again is not None else rest).strip()


def _quote_start(lines: list[str]) -> int | None:
    for i, line in enumerate(lines):
        bare = line.strip()
        if not bare:
            continue
        if _QUOTED.match(line) or _DELIMITER.match(bare):
            return i
        if bare.endswith(":"):
            for span in (1, 2, 3):  # an attribution may wrap: try the shortest that ends here
                top = i - span + 1
                joined = " ".join(x.strip() for x in lines[max(top, 0):i + 1])
                if top >= 0 and (_ATTRIBUTION.match(joined) or
                                 (_DATED_ATTRIBUTION.match(joined) and _quote_follows(lines, i + 1))):
                    return top
        if _FROM.match(bare) and sum(bool(_SENT.match(x.strip())) for x in lines[i + 1:i + 6]) >= 2:
            return i
    return None


def _quote_follows(lines: list[str], at: int) -> bool:
    for line in lines[at:at + 3]:
        if line.strip():
            return bool(_QUOTED.match(line))
    return False


def split_signature(text: str, sender: str = "") -> tuple[str, str]:
    """(text without signature, signature); the signature is "" when there is none."""
    lines = text.strip().split("\n")
    tail = max(len(lines) - MAX_SIGNATURE_LINES, 1)
    for i in range(tail, len(lines)):
        if _RULE.match(lines[i]) or _MOBILE.match(lines[i]):
            return _cut(lines, i)
    start = _last_paragraph(lines)
    if start and _names_sender(lines[start:], sender):
        return _cut(lines, start)
    return text.strip(), ""


def _cut(lines: list[str], at: int) -> tuple[str, str]:
    return "\n".join(lines[:at]).strip(), "\n".join(lines[at:]).strip()


def _last_paragraph(lines: list[str]) -> int | None:
    start = len(lines)
    while start > 0 and lines[start - 1].strip():
        start -= 1
    block = lines[start:]
    if not block or len(block) > 8 or any(len(line) > 60 for line in block):
        return None
    return start


def _names_sender(block: list[str], sender: str) -> bool:
    sender = sender.strip().lower()
    if not sender:
        return False
    needles = {sender}
    if "@" not in sender and len(sender.split()[0]) >= 3:
        needles.add(sender.split()[0])
    text = "\n".join(block).lower()
    return any(re.search(rf"(?<!\w){re.escape(n)}(?!\w)", text) for n in needles)
