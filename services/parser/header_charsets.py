"""The charset of header bytes: checked against the label they carry, found when they carry none.

A subject or a file name arrives as raw 8-bit bytes with no label (GB2312, Big5 or Shift_JIS typed
into a client that does not encode headers), or under a label that is wrong (Shift_JIS bytes in a
word labelled ISO-2022-JP, UTF-8 bytes labelled ISO-8859-1). A header is too short for a detector
alone: ``charset_normalizer`` takes GB2312 subjects for Korean. So the reading is chosen in this
order, and every choice but a clean declared one is a defect:

1. the declared label, unless the bytes are UTF-8 under a single-byte label (mojibake otherwise),
   or the label is a CJK one whose reading is implausible (below) where another is plausible;
2. UTF-8;
3. the charset the mail's body declares (the hint), when its reading is clean and plausible: one
   client wrote both;
4. else the most plausible clean reading among the hint, GBK, Big5, EUC-KR, Shift_JIS, EUC-JP,
   the detector's choice among the charsets mail is written in, windows-1252 and windows-1251,
   then the rest of those charsets (counting half); a tie goes to the earlier in that order
   (Shift_JIS and EUC-JP first under an ISO-2022-JP label).

A reading is plausible as far as its characters are the ones text in that charset is made of. The
double-byte charsets of East Asia cover one another's bytes: Big5 bytes are GBK too, GBK bytes are
EUC-KR Hangul. But each keeps its common characters in one block (GB2312's 3,755 of level 1, Big5's
5,401 of level 1, JIS X 0208's kana and level 1), so a reading by the wrong charset lands in
private use, rare characters, kana where Chinese was meant, or Hangul syllables nobody writes
(under the label, its punctuation and symbols count half in any block). Common Hangul and the
commonest Chinese and Japanese characters (charset-normalizer's frequency tables) count above the
rest of their block; EUC-JP without kana counts less, its kanji being the bytes of GBK and Big5
Chinese, which mail is far more often written in. In a single-byte reading a Latin letter counts
when an ASCII letter is beside it (less when alone, little when the case changes mid-word); another
script's letter counts less, and only when its neighbours are of that script, spaces or
punctuation, and its case does not change mid-word. Two or three characters can be common ones in
both GBK and Big5 (B6 A9 B5 A5 is 订单 and 隆等 alike): such a tie is read as GBK unless the body says
Big5.

Only when no reading is clean does text carry U+FFFD, and the defect says so.
"""

from __future__ import annotations

import codecs
import unicodedata
from collections.abc import Callable
from functools import cache

from services.parser.charsets import codec_for

Hint = Callable[[], "str | None"] | None  # the body's declared charset, asked for only when needed

# Charsets mail headers are written in (the detector picks among these only).
_DETECTABLE = ["cp1252", "gb18030", "cp932", "euc_jp", "cp949", "big5", "cp1251", "koi8_r", "cp1250",
               "cp1253", "cp1254", "cp1255", "cp1256", "cp874", "cp1257"]
_LATIN = {"cp1250", "cp1252", "cp1254", "cp1257", "latin_1", "iso8859_15", "iso8859_2", "mac_roman", "cp850"}
_JAPANESE = {"iso2022_jp", "iso2022_jp_ext", "iso2022_jp_2", "euc_jp", "cp932", "shift_jis"}
_DOUBLE_BYTE = ("gb18030", "big5hkscs", "cp949", "cp932", "euc_jp")
_PLAUSIBLE = 0.5  # a hint's reading at least this plausible is taken without a contest
_IMPLAUSIBLE = 0.45  # a declared CJK reading below this gives way to one at least _CLEAR
_CLEAR = 0.75
# Syllables of everyday Korean (particles, endings, and the words of business mail); the other
# syllables of KS X 1001 count half.
_COMMON_HANGUL = frozenset(
    "이다는에의하고을가지기로서한사대리자어도아인시나를수일정니해그보있것부상주전적들게우면만국과라원제요장소구성여오경내신방동거비무문실화세미모공관위생연회조개안데말러중진학분계음등식물업발없까명선통교치심결단저현간된때날후년월차야더같했않습입출처금재품배송환불취견확청드립감합님객메답변탁약련건녕격점영운행최종료작용량검토완류첨파참바랍알림항예석록획프젝트담당팀표께씀올축죄례반갑뵙겠늘매납래력퇴휴외근택급봉승령채접애속밀번호탈벤쿠폰할카좌은잔액울산광충북남김박강윤임권황홍양손백허유노곽민엄천함염추설길왕옥육맹편복태목형피두빈온범팽갈창옹순빙풍엽랑각느낌친족빠누언머버센터스절려와며죠네든던였었았줍옵됩읍셨셔")
_WORD_EDGE = frozenset(".,:;!?-()\"'/")
_SYMBOLS = frozenset("\u00a0°±×÷€£¥§©®«»–—‘’‚“”„…•·¦¬¹²³¼½¾")


def read(data: bytes, label: str | None, hint: Hint, defects: list[str], where: str) -> str:
    """``data`` as text; ``label`` is the declared charset (None for raw 8-bit bytes)."""
    codec = codec_for(label) if label else None
    if codec is not None:
        text = _declared(data, codec)
        if text is not None:
            if codec not in _DOUBLE_BYTE or data.isascii() or _plausibility(text, codec, True) >= _IMPLAUSIBLE:
                return text
            other = _contest(data, [c for c in _DOUBLE_BYTE if c != codec], None)
            if other is None or other[2] < _CLEAR:
                return text
            defects.append(f"{where}: {(label or '')[:40]!r} reads as unlikely text, decoded as {_name(other[0])}")
            return other[1]
        if not data.isascii() and _clean(data, "utf-8") is not None and _single_byte(codec):
            defects.append(f"{where}: UTF-8 bytes labelled {(label or '')[:40]!r}, decoded as utf-8")
            return data.decode("utf-8")
    text = _clean(data, "utf-8")
    if text is not None:
        if label:
            defects.append(f"{where}: not valid {label[:40]!r}, decoded as utf-8")
        return text
    hinted = codec_for(hint()) if hint else None
    candidates, weak = _candidates(data, hinted, codec in _JAPANESE)
    best = _contest(data, candidates, hinted, weak)
    if best is not None:
        said = f"not valid {label[:40]!r}" if label else "raw 8-bit header is not UTF-8"
        defects.append(f"{where}: {said}, decoded as {_name(best[0])}")
        return best[1]
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


def _contest(data: bytes, candidates: list[str], hint: str | None,
             weak: frozenset[str] = frozenset()) -> tuple[str, str, float] | None:
    """The most plausible clean reading (codec, text, score); the hint's when it is plausible, the
    earlier candidate on a tie; a ``weak`` one (a last resort) counts half."""
    best: tuple[str, str, float] | None = None
    for candidate in candidates:
        text = _clean(data, candidate)
        if text is None:
            continue
        score = _plausibility(text, candidate) * (0.5 if candidate in weak else 1.0)
        if candidate == hint and score >= _PLAUSIBLE:
            return candidate, text, score
        if best is None or score > best[2]:
            best = candidate, text, score
    return best


def _plausibility(text: str, codec: str, declared: bool = False) -> float:
    """From 0 to about 1: how much ``text``, read in ``codec``, is made of the characters text in
    that charset is written with (module docstring)."""
    wide = [i for i, ch in enumerate(text) if ord(ch) > 0x7F]
    if not wide:
        return 1.0
    if codec in _DOUBLE_BYTE:
        score = sum(_double_byte_weight(text[i], codec, declared) for i in wide) / len(wide)
        if codec == "euc_jp" and not any("\u3040" <= text[i] <= "\u30ff" for i in wide):
            score *= 0.85  # kanji alone: the same bytes are far more often GBK or Big5 Chinese
        return score
    return sum(_single_byte_weight(text, i) for i in wide) / len(wide)


@cache
def _double_byte_weight(ch: str, codec: str, declared: bool = False) -> float:
    raw = ch.encode(codec)
    if len(raw) != 2:
        return 0.1 if codec == "cp932" and len(raw) == 1 else 0.0  # half-width kana: rare in a subject
    code, lead, trail = raw[0] << 8 | raw[1], raw[0], raw[1]
    if declared and unicodedata.category(ch)[0] in "PSN":  # ①, 【】: wherever the label's charset keeps them
        return 0.5
    weight = 0.0
    if codec == "gb18030" and trail >= 0xA1:
        weight = 0.8 if 0xB0 <= lead <= 0xD7 else 0.4 if 0xD8 <= lead <= 0xF7 else 0.6 if lead in (0xA1, 0xA3) else 0
    elif codec == "big5hkscs":
        weight = (0.8 if 0xA440 <= code <= 0xC67E else 0.4 if 0xC940 <= code <= 0xF9D5
                  else 0.6 if 0xA140 <= code <= 0xA3BF else 0)
    elif codec == "cp949" and trail >= 0xA1:
        if 0xB0 <= lead <= 0xC8:
            return 1.0 if ch in _COMMON_HANGUL else 0.5
        weight = 0.6 if lead == 0xA1 else 0.3 if 0xCA <= lead <= 0xFD else 0.05
    elif codec == "cp932":
        weight = (1.0 if 0x829F <= code <= 0x82F1 or 0x8340 <= code <= 0x8396 else 0.8 if 0x889F <= code <= 0x9872
                  else 0.4 if 0x989F <= code <= 0xEAA4 else 0.6 if lead == 0x81 else 0.2 if lead >= 0xED or lead == 0x87
                  else 0)
    elif codec == "euc_jp":
        weight = (1.0 if lead in (0xA4, 0xA5) else 0.8 if 0xB0 <= lead <= 0xCF else 0.4 if 0xD0 <= lead <= 0xF4
                  else 0.6 if lead == 0xA1 else 0.1 if lead == 0x8E else 0)
    return weight + 0.1 if weight and ch in _frequent() else weight


@cache
def _frequent() -> frozenset[str]:
    from charset_normalizer.constant import FREQUENCIES

    return frozenset("".join("".join(FREQUENCIES.get(lang, [])) for lang in ("Chinese", "Japanese")))


def _single_byte_weight(text: str, i: int) -> float:
    ch = text[i]
    before, after = text[i - 1] if i else " ", text[i + 1] if i + 1 < len(text) else " "
    if ch.isalpha() or (i and unicodedata.category(ch) == "Mn"):
        script = _script(ch)
        if script == "LATIN":
            if (ch.isupper() and before.islower()) or (ch.islower() and after.isupper()):
                return 0.2  # case changing mid-word: "ÃaÃa" is Big5, not Latin
            if (before.isascii() and before.isalpha()) or (after.isascii() and after.isalpha()):
                return 1.0
            return 0.7 if before.isascii() and after.isascii() else 0.4  # "à la", a word alone
        # Another script's word: its own letters (and marks) throughout, between spaces or punctuation.
        fits = all(c.isspace() or c in _WORD_EDGE or (not c.isascii() and _script(c) == script)
                   for c in (before, after))
        camel = (ch.isupper() and before.islower()) or (ch.islower() and after.isupper())  # case changing mid-word
        return 0.7 if fits and not camel else 0.2
    if ch in _SYMBOLS:
        return 0.6 if before.isascii() or after.isascii() else 0.3
    return 0.0


def _script(ch: str) -> str:
    return "LATIN" if ch.isascii() else unicodedata.name(ch, "?").split(" ", 1)[0]


def _candidates(data: bytes, hint: str | None, japanese: bool) -> tuple[list[str], frozenset[str]]:
    """The charsets to read ``data`` in, in the order a tie between plausible readings goes by, and
    those of them that are only a last resort (no clean reading left out)."""
    found = [hint] if hint and hint != "utf-8" else []
    if japanese:
        found += ["cp932", "euc_jp"]
    found += _DOUBLE_BYTE  # GBK first: Chinese mail is far more often simplified than traditional
    detected = _detected(data)
    if detected == "big5":
        detected = "big5hkscs"  # what a Big5 label reads as (charsets.codec_for)
    if detected is not None:
        found.append("cp1252" if detected in _LATIN else detected)
    # windows-1252 reads all but five bytes; the multi-byte charsets may read what it cannot.
    found += ["cp1252", "cp1251"]
    rest = [c for c in _DETECTABLE if c != "big5" and c not in found]  # big5hkscs is among the double-byte ones
    return [*dict.fromkeys([*found, *rest])], frozenset(rest)


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
