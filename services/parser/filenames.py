"""Attachment names as a person should see them, and the extension that really counts.

A name comes from the sender and is shown to people and used to save files: it keeps no directory
part (``../../etc/passwd``), no control character or NUL, and no format character (Unicode Cf: the
bidirectional override that makes ``invoice\u202efdp.exe`` look like ``invoiceexe.pdf``, zero-width
spaces and joiners that make two names look alike, soft hyphens).
"""

from __future__ import annotations

import re
import unicodedata

MAX_NAME = 200
# Control, surrogate and every format character (Cf: bidi embeddings, overrides, isolates and marks,
# zero-width characters, soft hyphens, tags); letters keep their own direction without them.
_DROPPED = frozenset({"Cc", "Cs", "Cf"})


def clean_filename(name: str | None, fallback: str) -> tuple[str, list[str]]:
    """The safe display name and what was changed on the way (for the defects)."""
    issues: list[str] = []
    raw = name or ""
    text = unicodedata.normalize("NFC", raw)
    stripped = "".join(ch for ch in text if unicodedata.category(ch) not in _DROPPED)
    if stripped != text:
        issues.append("control or format characters removed from a file name")
    base = re.split(r"[/\\]", stripped)[-1]
    if base != stripped:
        issues.append("directory part removed from a file name")
    base = " ".join(base.split()).strip(" .")  # no leading dots (hidden files), no trailing dots/spaces
    if base in {"", ".", ".."}:
        base = fallback
    if len(base) > MAX_NAME:
        stem, dot, ext = base.rpartition(".")
        keep = ext if dot and len(ext) <= 16 else ""
        base = base[:MAX_NAME - len(keep) - 1].rstrip() + ("." + keep if keep else "")
        issues.append("file name shortened")
    return base, issues


def extension(name: str) -> str:
    """The last extension, lower-case, without the dot: what a desktop decides the file type by."""
    stem, dot, ext = name.rpartition(".")
    return ext.lower() if dot and stem and ext and len(ext) <= 16 else ""


_BY_TYPE = {"text/plain": "txt", "text/html": "html", "message/rfc822": "eml", "text/calendar": "ics",
            "image/jpeg": "jpg", "image/png": "png", "image/gif": "gif", "application/pdf": "pdf",
            "message/delivery-status": "txt", "text/rfc822-headers": "txt"}


def fallback_name(content_type: str, index: int) -> str:
    ext = _BY_TYPE.get(content_type) or (content_type.split("/")[-1] if content_type.startswith("image/") else "bin")
    return f"attachment-{index}.{ext[:10]}"
