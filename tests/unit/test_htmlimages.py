"""The images of sanitized mail HTML: the parser sets a remote image's address aside where no browser
fetches it, and the tag reader gives back exactly what the sanitizer wrote."""

from __future__ import annotations

from services.parser.html import sanitize
from shared.htmlimages import REMOTE_SRC, has_remote_images, rewrite_images


def test_a_remote_images_address_is_set_aside_whole_and_an_inline_one_stays() -> None:
    cleaned = sanitize('<p>a " src="http://text.example/"</p><img alt="q>" src="https://t.example/p.gif?a=1&b=&quot;2">'
                       '<img src="cid:logo@x" onerror="alert(1)"><img src="//t.example/x"><img src="javascript:x">')
    assert ' src="http' not in cleaned.replace('src="http://text.example/"</p>', "")
    assert 'src="cid:logo@x"' in cleaned and "onerror" not in cleaned
    seen: list[dict[str, str]] = []

    def look(attributes: dict[str, str]) -> dict[str, str]:
        seen.append(dict(attributes))
        return attributes

    assert rewrite_images(cleaned, look) == cleaned
    assert seen[0] == {"alt": "q>", REMOTE_SRC: 'https://t.example/p.gif?a=1&b="2'}
    assert seen[1:] == [{"src": "cid:logo@x"}, {}, {}]
    assert has_remote_images(cleaned)


def test_an_address_set_aside_by_the_sender_is_not_kept() -> None:
    """Only the parser sets addresses aside: a sender's own attribute of that name is dropped."""
    for html in ('<img data-remote-src="https://t.example/p.gif">',
                 '<img src="https://t.example/a.gif" data-remote-src="javascript:alert(1)">',
                 '<img src="cid:a" data-remote-src="https://t.example/p.gif">'):
        cleaned = sanitize(html)
        assert "javascript" not in cleaned
        assert cleaned.count(REMOTE_SRC) == (1 if "a.gif" in html else 0), cleaned
    assert not has_remote_images(sanitize("<p>data-remote-src=\"https://t.example/\"</p>"))


def test_a_rewrite_escapes_what_it_writes() -> None:
    rewritten = rewrite_images(sanitize('<img alt="x" src="cid:a">'), lambda a: {"alt": '"><script>', "src": "cid:a"})
    assert rewritten == '<img alt="&quot;&gt;&lt;script&gt;" src="cid:a">'
