"""stalwart-mail-parser's expected parse trees and header vectors, compared with what we publish."""

from __future__ import annotations

import email
import json
import re
from datetime import datetime
from email import policy
from pathlib import Path

from services.cli.parse import parse_raw
from services.parser import headers
from services.parser.filenames import clean_filename
from services.parser.html import to_text
from services.parser.structure import content_type
from shared.contracts import MailParsed


def ws(text: str | None) -> str:
    return re.sub(r"\s+", "", text or "")


def squash(text: str | None) -> str:
    return " ".join((text or "").split())


# ---- stalwart-mail-parser: messages with expected parse trees -------------------------------------

def _header(part: dict, name: str):  # type: ignore[no-untyped-def]
    for h in part["headers"]:
        if h["name"] == name:
            return h["value"]
    return None


def addresses(value) -> list[tuple[str, str]]:  # type: ignore[no-untyped-def]
    if not value or "Address" not in value:
        return []
    inner = value["Address"]
    if "List" in inner:
        return [(a.get("name") or "", a.get("address") or "") for a in inner["List"]]
    return [(a.get("name") or "", a.get("address") or "") for g in inner.get("Group", []) for a in g.get("addresses", [])]


def _body_text(part: dict) -> str:
    body = part["body"]
    if "Text" in body:
        return body["Text"]
    if "Html" in body:
        return to_text(body["Html"])
    return ""


def _attachment_name(part: dict) -> str | None:
    for header, attr in (("content_disposition", "filename"), ("content_type", "name")):
        value = _header(part, header)
        for a in ((value or {}).get("ContentType") or {}).get("attributes") or []:
            if a["name"] == attr:
                return a["value"]
    return None


def _size(part: dict) -> int | None:
    body = part["body"]
    for kind in ("Binary", "InlineBinary"):
        if kind in body:
            return len(body[kind])
    if "Text" in body or "Html" in body:
        return len((body.get("Text") or body.get("Html")).encode())
    return None


def stalwart_message(eml: Path) -> list[str]:
    # The expectation is for the mail with every CR removed: parse exactly that.
    expected = json.loads(eml.with_suffix(".json").read_text())
    got = parse_raw(eml.read_bytes().replace(b"\r", b""), str(eml))
    parts, top, diffs = expected["parts"], expected["parts"][0], []
    subject = _header(top, "subject")
    if subject is not None and squash(subject.get("Text")) != got.subject:
        diffs.append(f"subject {got.subject!r} != {squash(subject.get('Text'))!r}")
    want_from = addresses(_header(top, "from"))
    if want_from and (got.from_ is None or got.from_.address.lower() != want_from[0][1].lower()
                      or got.from_.name != squash(want_from[0][0])):
        diffs.append(f"from {got.from_} != {want_from[0]}")
    for field in ("to", "cc"):
        want = [a.lower() for _, a in addresses(_header(top, field)) if a]
        have = [a.address.lower() for a in getattr(got, field)]
        if want != have:
            diffs.append(f"{field} {have} != {want}")
    mid = _header(top, "message_id")
    if mid is not None and (got.message_id or "").strip("<>") != mid.get("Text"):
        diffs.append(f"message_id {got.message_id} != {mid.get('Text')}")
    date = _header(top, "date")
    if date is not None and "DateTime" in date:
        diffs.extend(date_diff(got.date, date["DateTime"]))
    text_parts = [parts[i] for i in expected["text_body"]]
    want_text = "".join(_body_text(p) for p in text_parts if "Text" in p["body"] or "Html" in p["body"])
    if ws(want_text) != ws(got.text):
        diffs.append(f"text differs: {squash(got.text)[:80]!r} != {squash(want_text)[:80]!r}")
    want_html = any("Html" in parts[i]["body"] for i in expected["html_body"])
    if want_html != (got.html is not None):
        diffs.append(f"html present: {got.html is not None} != {want_html}")
    diffs.extend(_attachment_diff(got, [parts[i] for i in expected["attachments"]]))
    return diffs


def date_diff(got: datetime | None, want: dict) -> list[str]:
    if got is None:
        return [f"date missing, want {want}"]
    sign = -1 if want["tz_before_gmt"] else 1
    offset = sign * (want["tz_hour"] * 60 + want["tz_minute"])
    have = (got.year, got.month, got.day, got.hour, got.minute, got.second,
            int(got.utcoffset().total_seconds() // 60) if got.utcoffset() is not None else 0)
    exp = (want["year"], want["month"], want["day"], want["hour"], want["minute"], want["second"], offset)
    return [] if have == exp else [f"date {have} != {exp}"]


def _attachment_diff(got: MailParsed, want: list[dict]) -> list[str]:
    have = [(a.filename, a.size) for a in got.attachments]
    exp = []
    for part in want:
        name = _attachment_name(part)
        exp.append((clean_filename(name, "")[0] if name else None, _size(part)))
    if len(have) != len(exp):
        return [f"attachments {have} != {exp}"]
    diffs = []
    for (hname, hsize), (ename, esize) in zip(have, exp, strict=True):
        if ename is not None and hname != ename:
            diffs.append(f"attachment name {hname!r} != {ename!r}")
        if esize is not None and "message" not in hname and hsize != esize and not hname.endswith(".eml"):
            diffs.append(f"attachment {hname!r} size {hsize} != {esize}")
    return diffs


def stalwart_header_vector(kind: str, entry: dict) -> list[str]:
    # A header value ends at a line break that is not folding; the vectors sometimes run on.
    raw, want, defects = re.split(r"\r?\n(?![ \t])", entry["header"])[0], entry["expected"], []
    if kind == "unstructured":
        got = headers.decode_unstructured(raw, defects)
        return [] if got == squash(want) else [f"{got!r} != {squash(want)!r}"]
    if kind == "address":
        got = [(a.name, a.address) for a in headers.parse_addresses(raw, "To", defects)]
        exp = [(squash(n), a) for n, a in addresses({"Address": want}) if a]
        return [] if got == exp else [f"{got} != {exp}"]
    if kind == "id":
        got = [i.strip("<>") for i in headers.parse_ids(raw)]
        return [] if got == (want or []) else [f"{got} != {want}"]
    if kind == "date":
        return date_diff(headers.parse_date(raw, defects), want) if want else (
            [] if headers.parse_date(raw, defects) is None else ["a date where none is expected"])
    msg = email.message_from_bytes(b"Content-Type: " + raw.encode("utf-8", "surrogateescape") + b"\n\n",
                                   policy=policy.default)
    if not want:
        return []
    got_type = content_type(msg)
    exp_type = f"{want['c_type']}/{want.get('c_subtype') or ''}".lower()
    return [] if got_type == exp_type else [f"{got_type} != {exp_type}"]


