"""ISO-2022-JP as Microsoft writes it (CP50220): JIS X 0208 plus the NEC and IBM rows (circled
digits, Roman numerals) that Python's iso2022_jp codecs refuse. Each two-byte JIS character is
moved to its Shift_JIS position, where cp932 knows all of them."""

from __future__ import annotations

import re

_ESCAPE = re.compile(rb"\x1b(\(B|\(J|\(I|\$@|\$B|\$\(D)")


def decode_ms(data: bytes) -> str:
    out: list[str] = []
    mode = b"(B"
    pos = 0
    for match in [*_ESCAPE.finditer(data), None]:
        end = match.start() if match else len(data)
        out.append(_segment(data[pos:end], mode))
        if match:
            mode, pos = match.group(1), match.end()
    return "".join(out)


def _segment(chunk: bytes, mode: bytes) -> str:
    if mode in (b"(B", b"(J"):
        return chunk.decode("ascii", errors="replace")
    if mode == b"(I":  # JIS X 0201 katakana: the half-width forms at 0xA1..0xDF in Shift_JIS
        return bytes(b | 0x80 for b in chunk).decode("cp932", errors="replace")
    sjis = bytearray()
    for i in range(0, len(chunk) - 1, 2):
        j1, j2 = chunk[i], chunk[i + 1]
        s1 = ((j1 - 0x21) >> 1) + 0x81
        s1 += 0x40 if s1 > 0x9F else 0
        s2 = j2 + (0x1F if j1 % 2 else 0x7E)
        s2 += 1 if j1 % 2 and s2 >= 0x7F else 0
        sjis += bytes((s1 & 0xFF, s2 & 0xFF))
    return bytes(sjis).decode("cp932", errors="replace")
