"""TNEF (``winmail.dat``): Outlook's wrapper around the real attachments, unpacked with tnefparse."""

from __future__ import annotations

import mimetypes

from services.parser.attachments import Part
from services.parser.filenames import clean_filename

MAX_TNEF_ATTACHMENTS = 500


def unpack(data: bytes, index: int, defects: list[str]) -> list[Part]:
    from tnefparse import TNEF

    try:
        tnef = TNEF(data, do_checksum=False)
        inner = list(tnef.attachments)[:MAX_TNEF_ATTACHMENTS]
        found = []
        for n, item in enumerate(inner, start=1):
            raw_name = item.long_filename() or item.name
            if isinstance(raw_name, bytes):
                raw_name = raw_name.decode("cp1252", errors="replace")
            name, issues = clean_filename(raw_name, f"winmail-{index}-{n}.bin")
            defects.extend(f"attachment {index} (TNEF) {n}: {issue}" for issue in issues)
            ctype = mimetypes.guess_type(name)[0] or "application/octet-stream"
            found.append(Part(filename=name, content_type=ctype, data=bytes(item.data or b""), inline=False,
                              content_id=None))
        return found
    except Exception as exc:  # tnefparse raises many kinds on bad input; the original stays attached
        defects.append(f"attachment {index}: TNEF not unpacked ({type(exc).__name__})")
        return []
