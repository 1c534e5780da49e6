"""The shared corpus as cases: each case parses real mail and lists how the result differs from
the source's expectations (an empty list is a pass). Used by the unit tests and ``make corpus``.

``KNOWN`` lists expectations we judge wrong for us, each with the reason; the tests mark them as
strict xfails and the report counts them apart, so no case is ever dropped silently.
"""

from __future__ import annotations

import email
import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from email import policy
from pathlib import Path

from services.cli.parse import parse_file
from services.parser.html import to_text
from services.parser.replies import extract_reply, split_signature, strip_quote
from shared.contracts import MailParsed
from tests.support.corpus_known import KNOWN, OUT_OF_SCOPE
from tests.support.corpus_stalwart import squash, stalwart_header_vector, stalwart_message, ws

__all__ = ["CORPUS", "KNOWN", "OUT_OF_SCOPE", "Case", "cases"]

CORPUS = Path(__file__).resolve().parents[3] / "shared" / "corpus"


@dataclass(frozen=True)
class Case:
    source: str
    id: str
    check: Callable[[], list[str]]


def _parse(path: Path) -> MailParsed:
    return parse_file(path)


# ---- redmine: mail sent to an issue tracker ----------------------------------------------------

def redmine_case(name: str, case: dict) -> list[str]:
    got, diffs = _parse(CORPUS / "redmine-mail-handler" / name), []
    text = got.text.replace("\ufffd", "?")
    if "subject" in case and got.subject != case["subject"]:
        diffs.append(f"subject {got.subject!r} != {case['subject']!r}")
    if "subject_contains" in case and case["subject_contains"] not in got.subject:
        diffs.append(f"subject {got.subject!r} lacks {case['subject_contains']!r}")
    if "subject_first_255_chars" in case and not got.subject.startswith(case["subject_first_255_chars"]):
        diffs.append("subject does not start with the expected 255 characters")
    if "description_equals" in case and squash(text) != squash(case["description_equals"]):
        diffs.append(f"text {squash(text)[:80]!r} != {case['description_equals']!r}")
    if "description_equals_redmine_textile" in case:
        words = re.sub(r"h1\. |\*", "", case["description_equals_redmine_textile"])
        if squash(text) != squash(words):
            diffs.append(f"text {squash(text)!r} != words of {words!r}")
    source = got.reply_text if case.get("with_regex_body_delimiter") else text
    for needle in case.get("description_contains", []):
        if needle not in (source or ""):
            diffs.append(f"text lacks {needle!r}")
    for needle in case.get("description_not_contains", []):
        if needle in (source or ""):
            diffs.append(f"text keeps {needle!r}")
    for needle in case.get("notes_contains", []):
        if needle not in (got.reply_text or ""):
            diffs.append(f"reply lacks {needle!r}")
    for needle in case.get("notes_not_contains", []):
        if needle in (got.reply_text or ""):
            diffs.append(f"reply keeps {needle!r}")
    if "notes_contains_regex" in case and not re.search(case["notes_contains_regex"], got.reply_text or ""):
        diffs.append(f"reply does not match {case['notes_contains_regex']!r}")
    diffs.extend(_redmine_people(got, case))
    if "attachments" in case:
        diffs.extend(_redmine_attachments(got, case["attachments"]))
    for key, value in (case.get("body_keywords") or {}).items():
        for v in value if isinstance(value, list) else [value]:
            if not re.search(rf"^\s*{re.escape(key)}\s*:.*{re.escape(v)}", text, re.M | re.I):
                diffs.append(f"keyword line {key}: {v} not in the text")
    if "target_item" in case and "In-Reply-To" in case.get("target_found_via", ""):
        if f"issue-{case['target_item']}." not in (got.in_reply_to or ""):
            diffs.append(f"in_reply_to {got.in_reply_to} does not name issue {case['target_item']}")
    if case["kind"] == "rejected" and got.from_ is not None:
        diffs.append("a sender where the mail has no From")
    if case["kind"] == "ignored" and got.classification.kind != "own-loop":
        diffs.append(f"classified {got.classification.kind}, not own-loop")
    return diffs


def _redmine_people(got: MailParsed, case: dict) -> list[str]:
    diffs = []
    if "sender" in case:
        sender = case["sender"]
        if sender is None:
            if got.from_ is not None:
                diffs.append(f"sender {got.from_} where none is expected")
        elif got.from_ is None or got.from_.address.lower() != sender["email"].lower():
            diffs.append(f"sender {got.from_} != {sender['email']}")
        elif "first_name" in sender and got.from_.name != f"{sender['first_name']} {sender['last_name']}":
            diffs.append(f"sender name {got.from_.name!r} != {sender['first_name']} {sender['last_name']}")
    if "cc_watchers" in case and [a.address.lower() for a in got.cc] != case["cc_watchers"]:
        diffs.append(f"cc {[a.address for a in got.cc]} != {case['cc_watchers']}")
    return diffs


def _redmine_attachments(got: MailParsed, want: list[dict]) -> list[str]:
    if len(got.attachments) != len(want):
        return [f"attachments {[(a.filename, a.size) for a in got.attachments]} != {want}"]
    diffs = []
    for have, exp in zip(got.attachments, want, strict=True):
        for key in ("filename", "content_type", "size", "sha256"):
            if key in exp and getattr(have, key) != exp[key]:
                diffs.append(f"attachment {key} {getattr(have, key)!r} != {exp[key]!r}")
        if "content_hex" in exp and have.sha256 != __import__("hashlib").sha256(bytes.fromhex(exp["content_hex"])).hexdigest():
            diffs.append("attachment bytes differ")
    return diffs


# ---- talon: replies and signatures ------------------------------------------------------------

def talon_case(case: dict) -> list[str]:
    base = CORPUS / "talon"
    if case["task"] == "reply_from_plain_text_part":
        msg = email.message_from_bytes((base / case["input"]).read_bytes(), policy=policy.default)
        plain = next(p for p in msg.walk() if p.get_content_type() == "text/plain")
        got = extract_reply(plain.get_content()).text
        return [] if got.strip() == case["expected_reply"] else [f"reply {got!r} != {case['expected_reply']!r}"]
    if case["task"] == "reply_from_html":
        html = (base / case["input"]).read_text(encoding="utf-8", errors="replace")
        got = strip_quote(to_text(html, cut_at_quote=True))
        want = case.get("expected_reply_text") or to_text(case["expected_html"])
        return [] if ws(got) == ws(want) else [f"reply {squash(got)!r} != {squash(want)!r}"]
    body = (base / case["body"]).read_text()
    sender = (base / case["sender"]).read_text().strip()
    want_sig = (base / case["expected_signature_file"]).read_text().strip()
    text, sig = split_signature(body, sender)
    diffs = [] if sig == want_sig else [f"signature {sig[:60]!r} != {want_sig[:60]!r}"]
    want_text = body.strip()[:len(body.strip()) - len(want_sig)].strip() if want_sig else body.strip()
    return diffs + ([] if text == want_text else ["text without the signature differs"])


# ---- mikel-mail: robustness ---------------------------------------------------------------------

def mikel_case(eml: Path) -> list[str]:
    got, diffs = _parse(eml), []
    raw_from = next((line for line in eml.read_bytes().split(b"\n") if line.lower().startswith(b"from:")), b"")
    if b"@" in raw_from and got.from_ is None and not got.defects:
        diffs.append("a From with an address gave no sender and no defect")
    if "\n" in got.subject or "\r" in got.subject:
        diffs.append("subject is not one line")
    if any(not a.filename or "/" in a.filename for a in got.attachments):
        diffs.append("an attachment without a safe name")
    if got.date is not None and got.date.tzinfo is None:
        diffs.append("a naive date")
    return diffs


# ---- the cases ----------------------------------------------------------------------------------

def cases() -> list[Case]:
    found: list[Case] = []
    for eml in sorted((CORPUS / "stalwart-mail-parser").glob("*/*.eml")):
        found.append(Case("stalwart-mail-parser", f"{eml.parent.name}/{eml.stem}", lambda e=eml: stalwart_message(e)))
    for vectors in sorted((CORPUS / "stalwart-mail-parser" / "headers").glob("*.json")):
        if vectors.stem in OUT_OF_SCOPE:
            continue
        for n, entry in enumerate(json.loads(vectors.read_text())):
            found.append(Case("stalwart-headers", f"{vectors.stem}/{n}",
                              lambda k=vectors.stem, e=entry: stalwart_header_vector(k, e)))
    redmine = json.loads((CORPUS / "redmine-mail-handler" / "expected.json").read_text())["cases"]
    for name, case in sorted(redmine.items()):
        found.append(Case("redmine-mail-handler", name, lambda n=name, c=case: redmine_case(n, c)))
    talon = json.loads((CORPUS / "talon" / "expected.json").read_text())["cases"]
    for cid, case in sorted(talon.items()):
        found.append(Case("talon", cid, lambda c=case: talon_case(c)))
    for eml in sorted((CORPUS / "mikel-mail").rglob("*.eml")):
        found.append(Case("mikel-mail", str(eml.relative_to(CORPUS / "mikel-mail")), lambda e=eml: mikel_case(e)))
    return found


