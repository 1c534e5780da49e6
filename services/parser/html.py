"""HTML from mail: sanitized for display by an allow-list, and turned into readable text.

Sanitizing is nh3 (the Ammonia sanitizer): no scripts, styles, forms or event handlers, links only
to http(s) and mailto, and no remote content fetched on view: an image keeps its ``src`` only when
it points into the mail itself (``cid:``), so opening a mail tells its sender nothing. A remote
image's http(s) address is kept aside in ``data-remote-src`` (``shared/htmlimages.py``), which no
browser fetches, for a person who asks to see the remote images of one mail.
"""

from __future__ import annotations

from collections.abc import Callable

import nh3

from services.parser.htmltext import TextWriter
from shared.htmlimages import REMOTE_SRC, is_remote, rewrite_images

_TAGS = nh3.ALLOWED_TAGS | {"font"}
_ATTRIBUTES = {tag: set(attrs) for tag, attrs in nh3.ALLOWED_ATTRIBUTES.items()}
_ATTRIBUTES["*"] = {"dir", "lang", "title"}
_ATTRIBUTES["font"] = {"color", "face", "size"}
_FETCHING = {"src", "srcset", "background", "poster", "lowsrc", "dynsrc", "longdesc"}
# What the text writer needs to see: every tag's text, and the marks mail clients put on quotes.
_TEXT_TAGS = _TAGS | {"o:p", "section", "main", "article", "tfoot", "label", "big", "address"}
_TEXT_ATTRIBUTES = {"*": {"class", "id", "style", "type", "data-signatureblock"}, "a": {"href"}}
_DROPPED_WITH_CONTENT = {"script", "style", "title", "head", "template", "noscript", "xml"}


_REMOTE_ATTRIBUTES = _ATTRIBUTES | {"img": set(_ATTRIBUTES["img"]) | {REMOTE_SRC}}


def _is_local(value: str) -> bool:
    return value.strip().lower().startswith("cid:")


def _keep_local(tag: str, attribute: str, value: str) -> str | None:
    if attribute in _FETCHING and not _is_local(value):
        return None
    return value


def _clean(html: str, attributes: dict[str, set[str]], keep: Callable[[str, str, str], str | None]) -> str:
    return nh3.clean(html, tags=_TAGS, attributes=attributes, attribute_filter=keep,
                     url_schemes={"http", "https", "mailto", "cid"}, strip_comments=True,
                     link_rel="noopener noreferrer nofollow",
                     clean_content_tags=_DROPPED_WITH_CONTENT - _TAGS)


def sanitize(html: str) -> str:
    remote = False

    def keep(tag: str, attribute: str, value: str) -> str | None:
        nonlocal remote
        if tag == "img" and attribute == "src" and is_remote(value):
            remote = True
            return value  # moved aside below
        return _keep_local(tag, attribute, value)

    cleaned = _clean(html, _ATTRIBUTES, keep)
    if not remote:
        return cleaned
    moved = rewrite_images(cleaned, _set_remote_aside)
    # Cleaned once more, strictly: whatever the move did, no src but cid: survives, and the address
    # set aside is an http(s) one.
    return _clean(moved, _REMOTE_ATTRIBUTES, _keep_set_aside)


def _set_remote_aside(attributes: dict[str, str]) -> dict[str, str]:
    attributes.pop(REMOTE_SRC, None)  # only ever the parser's own
    if is_remote(attributes.get("src", "")):
        attributes[REMOTE_SRC] = attributes.pop("src")
    return attributes


def _keep_set_aside(tag: str, attribute: str, value: str) -> str | None:
    if attribute == REMOTE_SRC:
        return value if is_remote(value) else None
    return _keep_local(tag, attribute, value)


def to_text(html: str, cut_at_quote: bool = False) -> str:
    """Readable text: blocks become lines, lists get bullets, table cells are tab-separated.

    With ``cut_at_quote`` the text stops where a mail client's quoted history begins (a blockquote,
    Gmail's and Outlook's quote containers, the rule Outlook draws above the original).
    """
    whole, before_quote = texts(html)
    return before_quote if cut_at_quote else whole


def texts(html: str) -> tuple[str, str]:
    """``to_text`` of ``html`` whole and cut at the quote, from one sanitizing and one reading."""
    wellformed = nh3.clean(html, tags=_TEXT_TAGS, attributes=_TEXT_ATTRIBUTES, url_schemes=None,
                           strip_comments=True, link_rel=None,
                           clean_content_tags=_DROPPED_WITH_CONTENT - _TEXT_TAGS)
    writer = TextWriter()
    writer.feed(wellformed)
    writer.close()
    return writer.text(), writer.text(cut_at_quote=True)
