"""Bytes to text under the charset a mail declares, or the one it meant, or a recorded guess.

Mail clients decode by the WHATWG Encoding Standard's labels rather than by the IANA registry, and so
do we: ``iso-8859-1`` and ``us-ascii`` mean windows-1252, ``gb2312`` means GBK, and Korean mail
labelled ``ks_c_5601-1987`` is windows-949. A label we do not know, or bytes that do not decode,
never fail the parse: the text is decoded by a guess and the defect is recorded.
"""

from __future__ import annotations

import codecs
from collections.abc import Callable

_ALIASES = {
    "uft-8": "utf-8", "utf8": "utf-8", "utf-8-sig": "utf-8", "unicode-1-1-utf-8": "utf-8", "x-unicode20utf8": "utf-8",
    "us-ascii": "cp1252", "ascii": "cp1252", "ansi_x3.4-1968": "cp1252", "iso-8859-1": "cp1252",
    "iso8859-1": "cp1252", "latin1": "cp1252", "latin-1": "cp1252", "iso_8859-1": "cp1252",
    "iso-8859-8-i": "iso-8859-8", "iso-8859-8-e": "iso-8859-8", "iso-8859-6-i": "iso-8859-6",
    "iso-8859-6-e": "iso-8859-6", "iso-8859-9": "cp1254", "windows-874": "cp874", "tis-620": "cp874",
    "gb2312": "gb18030", "gbk": "gb18030", "x-gbk": "gb18030", "cn-gb": "gb18030", "euc-cn": "gb18030",
    "ks_c_5601-1987": "cp949", "ks_c_5601": "cp949", "euc-kr": "cp949", "x-windows-949": "cp949",
    "shift_jis": "cp932", "shift-jis": "cp932", "x-sjis": "cp932", "sjis": "cp932", "windows-31j": "cp932",
    # Microsoft's ISO-2022-JP carries NEC and IBM extensions (circled digits); JIS X 0213 has them.
    "iso-2022-jp": "iso2022_jp_ext", "csiso2022jp": "iso2022_jp_ext", "big5": "big5hkscs",
    "x-mac-roman": "mac-roman", "x-mac-cyrillic": "mac-cyrillic", "cp-850": "cp850",
}
_UNKNOWN = {"", "unknown", "unknown-8bit", "x-unknown", "default", "none", "charset", "8bit", "binary"}
_ASCII = {"us-ascii", "ascii", "ansi_x3.4-1968", "us"}
_AFTER_FAILURE = {"cp1252": ("utf-8",)}


def codec_for(label: str | None) -> str | None:
    """The Python codec for a charset label, or None when the label names nothing we can decode."""
    name = (label or "").strip().strip("\"'").lower()
    if name in _UNKNOWN:
        return None
    name = _ALIASES.get(name, name)
    if name.startswith("windows-") and name[8:].isdigit():
        name = "cp" + name[8:]
    try:
        return codecs.lookup(name).name
    except LookupError:
        return None


def decode(data: bytes, label: str | None, defects: list[str], where: str = "text") -> str:
    """Decode ``data`` declared as ``label``; a wrong or missing label is recorded in ``defects``."""
    codec = codec_for(label)
    if codec is None and label and label.strip().lower() not in _UNKNOWN:
        defects.append(f"{where}: unknown charset {label[:40]!r}, guessed")
    if codec is not None:
        if (label or "").strip().lower() in _ASCII and not data.isascii():
            try:  # 8-bit bytes under an ASCII label are nearly always UTF-8 from a careless client
                text = data.decode("utf-8")
            except UnicodeDecodeError:
                pass
            else:
                defects.append(f"{where}: 8-bit bytes under {label!r}, decoded as utf-8")
                return text
        try:
            return data.decode(codec)
        except UnicodeDecodeError:
            pass
        if codec == "iso2022_jp_ext":
            from services.parser.iso2022jp import decode_ms

            return decode_ms(data)
        for fallback in _AFTER_FAILURE.get(codec, ()):
            try:
                text = data.decode(fallback)
            except UnicodeDecodeError:
                continue
            if fallback != "utf-8" or codec != "cp1252":
                defects.append(f"{where}: not valid {label}, decoded as {fallback}")
            return text
        text = data.decode(codec, errors="replace")
        defects.append(f"{where}: bytes not valid in {label[:40]!r} replaced with U+FFFD")
        return text
    return guess(data, defects, where)


def guess(data: bytes, defects: list[str], where: str = "text") -> str:
    """Text with no usable label: UTF-8 when it is, else the detector's best guess, else windows-1252."""
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        pass
    codec = "cp1252"  # what unlabelled 8-bit Western mail nearly always is
    if len(data) >= 512:  # below that the detector guesses worse than that rule
        from charset_normalizer import from_bytes

        best = from_bytes(data[:65536]).best()
        codec = best.encoding if best is not None else codec
    defects.append(f"{where}: no usable charset, decoded as {codec}")
    return data.decode(codec, errors="replace")


def unescape_8bit(value: str, defects: list[str], where: str,
                  hint: Callable[[], str | None] | None = None) -> str:
    """Header text that arrived as raw 8-bit bytes (kept by the parser as surrogate escapes), or as
    raw ISO-2022-JP (7-bit, so legal bytes, but escape sequences instead of encoded words). Bytes
    that are not UTF-8 are read by ``header_charsets`` (``hint``: the body's declared charset)."""
    from services.parser import header_charsets

    if "\x1b$" in value or "\x1b(" in value:
        defects.append(f"{where}: raw ISO-2022-JP header text")
        return header_charsets.read(value.encode("ascii", errors="replace"), "iso-2022-jp", hint, defects, where)
    if value.isascii() or not any("\udc80" <= ch <= "\udcff" for ch in value):  # ASCII: no escapes, at C speed
        return value
    raw = value.encode("utf-8", errors="surrogateescape")
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        return header_charsets.read(raw, None, hint, defects, where)
