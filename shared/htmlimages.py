"""The ``<img>`` tags of sanitized mail HTML, rewritten one at a time: the parser moves a remote
image's address aside (``data-remote-src``) so nothing is fetched on view, and the console puts an
inline image's ``cid:`` address, or on request the remote one, back into ``src``.

This reads the sanitizer's own output (nh3, the Ammonia serializer), not HTML in general: there a
``<`` is always the start of a tag (text and attribute values have it escaped as ``&lt;``, ``>`` as
``&gt;``), and every attribute is written ``name="value"`` with ``"`` escaped inside the value. So a
tag is exactly ``<img`` up to the next ``>``, and its attributes are read without a parser.
"""

from __future__ import annotations

import html
import re
from collections.abc import Callable

REMOTE_SRC = "data-remote-src"  # where the parser keeps a remote image's address
_IMG = re.compile(r"<img\b([^>]*?)\s*/?>")
_ATTRIBUTE = re.compile(r'([^\s"=/>]+)="([^"]*)"')

# Gets an image's attributes (unescaped, in order) and returns the ones to write.
Rewrite = Callable[[dict[str, str]], dict[str, str]]


def rewrite_images(sanitized: str, rewrite: Rewrite) -> str:
    def one(match: re.Match[str]) -> str:
        attributes = {name.lower(): html.unescape(value) for name, value in _ATTRIBUTE.findall(match.group(1))}
        written = "".join(f' {name}="{html.escape(value, quote=True)}"' for name, value in rewrite(attributes).items())
        return f"<img{written}>"

    return _IMG.sub(one, sanitized)


def is_remote(address: str) -> bool:
    """An address the browser would fetch from elsewhere (http or https)."""
    return address.strip().lower().startswith(("http://", "https://"))


def has_remote_images(sanitized: str) -> bool:
    """Whether any image's remote address was set aside (what "Show remote images" would fetch)."""
    found = False

    def look(attributes: dict[str, str]) -> dict[str, str]:
        nonlocal found
        found = found or is_remote(attributes.get(REMOTE_SRC, ""))
        return attributes

    if REMOTE_SRC in sanitized:
        rewrite_images(sanitized, look)
    return found
