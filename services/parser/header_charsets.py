"""The charset of header bytes: checked against the label they carry, found when they carry none.

A subject or a file name arrives as raw 8-bit bytes with no label (GB2312 or Shift_JIS typed into a
client that does not encode headers), or under a label that is wrong (Shift_JIS bytes in a word
labelled ISO-2022-JP, UTF-8 bytes labelled ISO-8859-1). A header is too short for a detector alone:
``charset_normalizer`` takes GB2312 subjects for Korean. So the reading is chosen in this order, the
first that decodes the bytes cleanly wins, and every choice but a clean declared one is a defect:

1. the declared label, unless the bytes are UTF-8 under a single-byte label (mojibake otherwise);
2. UTF-8;
3. the charset the mail's body declares (the hint): one client wrote both;
4. Shift_JIS when the reading has kana, Korean when it is Hangul throughout and four syllables
   long at least (scripts those bytes give by chance only rarely);
5. the detector's choice among the charsets mail is written in; for Latin text windows-1252,
   which never turns an 8-bit byte into an ASCII one.

Only when no reading is clean does text carry U+FFFD, and the defect says so.
"""

from __future__ import annotations

import codecs

from collections.abc import Callable

from services.parser.charsets import codec_for

Hint = Callable[[], "str | None"] | None  # the body's declared charset, asked for only when needed

# Charsets mail headers are written in (the detector picks among these only).
_DETECTABLE = ["cp1252", "gb18030", "cp932", "euc_jp", "cp949", "big5", "cp1251", "koi8_r", "cp1250",
               "cp1253", "cp1254", "cp1255", "cp1256", "cp874", "cp1257"]
_LATIN = {"cp1250", "cp1252", "cp1254", "cp1257", "latin_1", "iso8859_15", "iso8859_2", "mac_roman", "cp850"}
_MIN_HANGUL = 4  # two or three Chinese characters in GB2312 are Hangul under EUC-KR too, by chance
_JAPANESE = {"iso2022_jp", "iso2022_jp_ext", "iso2022_jp_2", "euc_jp", "cp932", "shift_jis"}


def read(data: bytes, label: str | None, hint: Hint, defects: list[str], where: str) -> str:
    """``data`` as text; ``label`` is the declared charset (None for raw 8-bit bytes)."""
    codec = codec_for(label) if label else None
    if codec is not None:
        text = _declared(data, codec)
        if text is not None:
            return text
        if not data.isascii() and _clean(data, "utf-8") is not None and _single_byte(codec):
            defects.append(f"{where}: UTF-8 bytes labelled {(label or '')[:40]!r}, decoded as utf-8")
            return data.decode("utf-8")
    text = _clean(data, "utf-8")
    if text is not None:
        if label:
            defects.append(f"{where}: not valid {label[:40]!r}, decoded as utf-8")
        return text
    for candidate in _candidates(data, codec_for(hint()) if hint else None, codec in _JAPANESE):
        text = _clean(data, candidate)
        if text is not None:
            said = f"not valid {label[:40]!r}" if label else "raw 8-bit header is not UTF-8"
            defects.append(f"{where}: {said}, decoded as {_name(candidate)}")
            return text
    defects.append(f"{where}: no charset reads the bytes cleanly, U+FFFD for what none reads")
    return data.decode(codec or "cp1252", errors="replace")


def _declared(data: bytes, codec: str) -> str | None:
    """The reading under the declared codec, unless it is a single-byte one and the bytes are UTF-8."""
    if codec == "iso2022_jp_ext":
        if not data.isascii():  # ISO-2022-JP is 7-bit: 8-bit bytes under its label are something else
            return None
        from services.parser.iso2022jp import decode_ms

        for variant in ("iso2022_jp_ext", "iso2022_jp_2004", "iso2022_jp_3", "iso2022_jp_2"):
            text = _clean(data, variant)
            if text is not None:
                return text
        return decode_ms(data)  # Microsoft's rows too; U+FFFD only where no JIS table has the character
    if _single_byte(codec) and _clean(data, "utf-8") is not None:
        return None
    return _clean(data, codec)


def _candidates(data: bytes, hint: str | None, japanese: bool) -> list[str]:
    found = [hint] if hint and hint != "utf-8" else []
    if japanese:
        found += ["cp932", "euc_jp"]
    kana = _clean(data, "cp932")
    if kana is not None and any("\u3040" <= ch <= "\u30ff" for ch in kana):
        found.append("cp932")
    korean = _clean(data, "cp949")
    wide = [ch for ch in korean or "" if ord(ch) > 0x7F]
    if len(wide) >= _MIN_HANGUL and sum("\uac00" <= ch <= "\ud7a3" for ch in wide) == len(wide):
        found.append("cp949")
    detected = _detected(data)
    if detected == "cp949":  # not Hangul throughout (that was taken above): Chinese, far more often
        detected = "gb18030"
    if detected is not None:
        found.append("cp1252" if detected in _LATIN else detected)
    # windows-1252 reads all but five bytes; the multi-byte charsets may read what it cannot.
    return [*dict.fromkeys([*found, "cp1252", "gb18030", "cp932", "cp949", "big5hkscs"])]


def _detected(data: bytes) -> str | None:
    from charset_normalizer import from_bytes

    best = from_bytes(data, cp_isolation=_DETECTABLE).best()
    return codecs.lookup(best.encoding).name if best is not None else None


def _clean(data: bytes, codec: str) -> str | None:
    try:
        return _clean_text(data.decode(codec))
    except (UnicodeDecodeError, LookupError):
        return None


def _clean_text(text: str) -> str | None:
    return None if "\ufffd" in text else text


def _single_byte(codec: str) -> bool:
    return codec.startswith(("cp12", "iso8859", "latin", "koi8", "mac_", "cp8")) or codec in ("cp874", "cp437")


def _name(codec: str) -> str:
    return {"cp932": "shift_jis", "cp949": "euc-kr", "gb18030": "gb18030", "cp1252": "windows-1252"}.get(codec, codec)
