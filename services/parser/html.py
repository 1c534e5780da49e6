"""HTML from mail: sanitized for display by an allow-list, and turned into readable text.

Sanitizing is nh3 (the Ammonia sanitizer): no scripts, styles, forms or event handlers, links only
to http(s) and mailto, and no remote content fetched on view: an image keeps its ``src`` only when
it points into the mail itself (``cid:``), so opening a mail tells its sender nothing.
"""

from __future__ import annotations

import nh3

from services.parser.htmltext import TextWriter

_TAGS = nh3.ALLOWED_TAGS | {"font"}
_ATTRIBUTES = {tag: set(attrs) for tag, attrs in nh3.ALLOWED_ATTRIBUTES.items()}
_ATTRIBUTES["*"] = {"dir", "lang", "title"}
_ATTRIBUTES["font"] = {"color", "face", "size"}
_FETCHING = {"src", "srcset", "background", "poster", "lowsrc", "dynsrc", "longdesc"}
# What the text writer needs to see: every tag's text, and the marks mail clients put on quotes.
_TEXT_TAGS = _TAGS | {"o:p", "section", "main", "article", "tfoot", "label", "big", "address"}
_TEXT_ATTRIBUTES = {"*": {"class", "id", "style", "type", "data-signatureblock"}, "a": {"href"}}
_DROPPED_WITH_CONTENT = {"script", "style", "title", "head", "template", "noscript", "xml"}


def _keep_local(tag: str, attribute: str, value: str) -> str | None:
    if attribute in _FETCHING and not value.strip().lower().startswith("cid:"):
        return None
    return value


def sanitize(html: str) -> str:
    return nh3.clean(html, tags=_TAGS, attributes=_ATTRIBUTES, attribute_filter=_keep_local,
                     url_schemes={"http", "https", "mailto", "cid"}, strip_comments=True,
                     link_rel="noopener noreferrer nofollow",
                     clean_content_tags=_DROPPED_WITH_CONTENT - _TAGS)


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
