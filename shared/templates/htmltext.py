"""A text part derived from an HTML body, for a template that gives only HTML: the words in their
order, a line break for each block, "- " before a list entry, a link's address after its words."""

from __future__ import annotations

from html.parser import HTMLParser

_BLOCKS = frozenset({"p", "div", "br", "tr", "h1", "h2", "h3", "h4", "h5", "h6", "blockquote", "pre", "ul", "ol",
                     "table", "hr"})
_SKIPPED = frozenset({"script", "style", "head", "title"})


class _Text(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.lines: list[str] = [""]
        self._skip = 0
        self._href: list[str | None] = []

    def _break(self) -> None:
        if self.lines[-1].strip():
            self.lines.append("")

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in _SKIPPED:
            self._skip += 1
        elif tag == "li":
            self._break()
            self.lines[-1] = "- "
        elif tag in _BLOCKS:
            self._break()
            if tag == "p" and len(self.lines) > 1:
                self.lines.insert(-1, "")  # a paragraph is set off by an empty line
        elif tag == "a":
            self._href.append(dict(attrs).get("href"))

    def handle_endtag(self, tag: str) -> None:
        if tag in _SKIPPED:
            self._skip = max(0, self._skip - 1)
        elif tag in _BLOCKS or tag == "li":
            self._break()
        elif tag == "a" and self._href:
            href = self._href.pop()
            if href and href not in self.lines[-1]:
                self.lines[-1] += f" ({href})"

    def handle_data(self, data: str) -> None:
        if not self._skip:
            self.lines[-1] += data


def text_from_html(html: str) -> str:
    parser = _Text()
    parser.feed(html)
    parser.close()
    out: list[str] = []
    for line in (" ".join(raw.split()) for raw in parser.lines):
        if line or (out and out[-1]):  # one empty line at most between blocks
            out.append(line)
    return "\n".join(out).strip("\n") + "\n"
