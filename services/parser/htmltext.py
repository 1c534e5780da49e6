"""The HTML-to-text writer behind ``html.to_text``; it only ever reads nh3's well-formed output.

One reading gives both the whole text and the text up to the quoted history: the writer notes
where the first quote begins and reads on.
"""

from __future__ import annotations

import re
from html.parser import HTMLParser

_BLOCK = {"p", "div", "h1", "h2", "h3", "h4", "h5", "h6", "ul", "ol", "table", "tr", "pre", "blockquote",
          "section", "article", "header", "footer", "dl", "dt", "dd", "center", "address", "hr", "main"}
_QUOTE_IDS = {"divrplyfwdmsg", "appendonsend", "olk_src_body_section", "mail-editor-reference-message-container",
              "ymail_android_signature_quote"}
_QUOTE_CLASSES = {"gmail_quote", "yahoo_quoted", "moz-cite-prefix", "protonmail_quote", "zmail_extra"}
_RULE_STYLE = re.compile(r"border-top\s*:\s*solid|border-top-style\s*:\s*solid", re.I)


class TextWriter(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.out: list[str] = []
        self.pre = 0
        self.lists: list[list[int]] = []  # per open list: [ordered, counter]
        self.quote_at: int | None = None  # where in ``out`` the quoted history begins

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if self.quote_at is None and self._is_quote(tag, dict(attrs)):
            self.quote_at = len(self.out)
        if tag == "br":
            self.out.append("\n")
        elif tag in ("ul", "ol"):
            self.lists.append([tag == "ol", 0])
            self.out.append("\n")
        elif tag == "li":
            bullet = "- "
            if self.lists and self.lists[-1][0]:
                self.lists[-1][1] += 1
                bullet = f"{self.lists[-1][1]}. "
            self.out.append("\n" + "  " * max(len(self.lists) - 1, 0) + bullet)
        elif tag in ("td", "th"):
            self.out.append("\t")
        elif tag in _BLOCK:
            self.out.append("\n\n" if tag in ("p", "h1", "h2", "h3", "h4", "h5", "h6") else "\n")
        if tag == "pre":
            self.pre += 1

    def handle_endtag(self, tag: str) -> None:
        if tag in ("ul", "ol") and self.lists:
            self.lists.pop()
        if tag == "pre" and self.pre:
            self.pre -= 1
        if tag in _BLOCK:
            self.out.append("\n\n" if tag in ("p", "h1", "h2", "h3", "h4", "h5", "h6") else "\n")

    def handle_data(self, data: str) -> None:
        self.out.append(data if self.pre else re.sub(r"[ \t\r\n\f]+", " ", data))

    def _is_quote(self, tag: str, attrs: dict[str, str | None]) -> bool:
        if tag == "blockquote" or tag == "hr":
            return True
        if (attrs.get("id") or "").lower() in _QUOTE_IDS:
            return True
        if set((attrs.get("class") or "").lower().split()) & _QUOTE_CLASSES:
            return True
        return tag == "div" and bool(_RULE_STYLE.search(attrs.get("style") or ""))

    def text(self, cut_at_quote: bool = False) -> str:
        cut = cut_at_quote and self.quote_at is not None
        out = self.out[:self.quote_at] if cut else self.out
        lines = [line.replace("\xa0", " ").rstrip() for line in "".join(out).split("\n")]
        lines = [line[1:] if line.startswith(" ") and not line.startswith("  ") else line for line in lines]
        if cut:  # the attribution above a quote ("On ... wrote:", "... <a@b>:") goes with it
            while lines and not lines[-1].strip():
                lines.pop()
            if lines and lines[-1].rstrip().endswith(":"):
                lines.pop()
        text = re.sub(r"\n{3,}", "\n\n", "\n".join(lines))
        return text.strip("\n")
