"""The attachments of a mail as published: name, type, size, hash; TNEF (winmail.dat) unpacked."""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from email import policy
from email.message import Message

from services.parser.encoded_words import decode_words
from services.parser.filenames import clean_filename, extension, fallback_name
from services.parser.header_charsets import Hint, read
from services.parser.headers import first, one_line
from services.parser.held import MailPart
from services.parser.structure import content_type
from services.parser.transfer import decoded_bytes
from shared.contracts.common import BlobRef
from shared.store import BlobStore

TNEF_TYPES = {"application/ms-tnef", "application/vnd.ms-tnef"}
_EML_POLICY = policy.default.clone(linesep="\r\n", max_line_length=0)


@dataclass
class Part:
    filename: str
    content_type: str
    data: bytes
    inline: bool
    content_id: str | None
    # A big body still in the raw mail (``held``): decoded as it is read, ``data`` stays empty.
    chunks: Callable[[], Iterator[bytes]] | None = None

    def stored(self, store: BlobStore | None) -> tuple[BlobRef | None, int, str]:
        """The blob (when there is a store), the size and the SHA-256 of the attachment's bytes."""
        if store is not None:
            ref = store.put(self.data) if self.chunks is None else store.put_chunks(self.chunks())
            return ref, ref.size, ref.sha256
        digest, size = hashlib.sha256(), 0
        for chunk in [self.data] if self.chunks is None else self.chunks():
            digest.update(chunk)
            size += len(chunk)
        return None, size, digest.hexdigest()

    @property
    def extension(self) -> str:
        return extension(self.filename)


def attachment(part: Message, index: int, defects: list[str], hint: Hint = None) -> list[Part]:
    """The attachment ``part`` publishes as: one, or, for TNEF, the original and what it carried."""
    ctype = _content_type(part, defects)
    name, issues = clean_filename(_raw_name(part, defects, hint), fallback_name(ctype, index))
    defects.extend(f"attachment {index}: {issue}" for issue in issues)
    tnef = ctype in TNEF_TYPES or name.lower() == "winmail.dat"
    chunks = part.decoded_chunks() if isinstance(part, MailPart) and not tnef else None
    data = _payload(part, ctype, index, defects) if chunks is None else b""
    disposition = _disposition(part)
    cid = one_line(first(part, "Content-ID")) or None
    found = [Part(filename=name, content_type=ctype, data=data, inline=disposition == "inline" or
                  (disposition is None and cid is not None), content_id=cid[:998] if cid else None, chunks=chunks)]
    if tnef:
        from services.parser.tnef import unpack

        found.extend(unpack(data, index, defects))
    return found


def _content_type(part: Message, defects: list[str]) -> str:
    return content_type(part)


def _disposition(part: Message) -> str | None:
    try:
        return part.get_content_disposition()
    except Exception:
        return None


def _raw_name(part: Message, defects: list[str], hint: Hint = None) -> str | None:
    """``filename`` (RFC 2231, continuations included) or, failing that, ``Content-Type; name=``.
    A name the stdlib decoded with U+FFFD (raw 8-bit bytes, a wrong RFC 2231 charset) is read again
    from the raw header, its charset checked against the bytes (``header_charsets``)."""
    try:
        name = part.get_filename() or part.get_param("name", header="content-type")
    except Exception as exc:
        defects.append(f"unreadable attachment name ({type(exc).__name__})")
        return None
    if isinstance(name, tuple):  # an RFC 2231 value the stdlib left undecoded
        from email.utils import collapse_rfc2231_value

        name = collapse_rfc2231_value(name)
    if not name:
        return None
    if "\ufffd" in str(name):
        name = _reread_name(part, defects, hint) or name
    # Many clients put RFC 2047 words in parameters, which RFC 2047 forbids and everyone reads.
    return decode_words(str(name), defects, "attachment name", hint)


def _reread_name(part: Message, defects: list[str], hint: Hint) -> str | None:
    for header, param in (("Content-Disposition", "filename"), ("Content-Type", "name")):
        raw = first(part, header)
        if not raw:
            continue
        # The legacy message's parameter parser keeps every byte when each is one Latin-1 character.
        legacy = Message()
        legacy[header] = raw.encode("ascii", "surrogateescape").decode("latin-1")
        value = legacy.get_param(param, header=header)
        if isinstance(value, tuple):  # RFC 2231: (charset, language, the bytes as Latin-1)
            return read(value[2].encode("latin-1", "replace"), value[0] or None, hint, defects, "attachment name")
        if isinstance(value, str):
            return read(value.encode("latin-1", "replace"), None, hint, defects, "attachment name")
    return None


def _payload(part: Message, ctype: str, index: int, defects: list[str]) -> bytes:
    if ctype == "message/delivery-status" and isinstance(part.get_payload(), list):
        # The stdlib holds each block of fields as a message of its own: the per-message block,
        # then one per recipient (with its Status and Diagnostic-Code). All of them are the report.
        return b"".join(_block(block) for block in part.get_payload() if isinstance(block, Message))
    if part.is_multipart() or ctype in ("message/rfc822", "message/global"):
        inner = part.get_payload()
        inner = inner[0] if isinstance(inner, list) and inner else inner
        if isinstance(inner, Message):
            try:
                return inner.as_bytes(policy=_EML_POLICY)
            except Exception as exc:  # a message the generator cannot write back: the raw text then
                defects.append(f"attachment {index}: embedded message rewritten loosely ({type(exc).__name__})")
                return str(inner).encode("utf-8", errors="surrogateescape")
    try:
        return decoded_bytes(part, defects, f"attachment {index}")
    except Exception as exc:
        defects.append(f"attachment {index}: undecodable payload ({type(exc).__name__}), kept raw")
        return str(part.get_payload()).encode("utf-8", errors="surrogateescape")


def _block(block: Message) -> bytes:
    """One block of a delivery status: its fields as written, then the empty line that ends it."""
    fields = "".join(f"{name}: {value}\r\n" for name, value in block.raw_items())
    return fields.encode("utf-8", "surrogateescape") + b"\r\n"
