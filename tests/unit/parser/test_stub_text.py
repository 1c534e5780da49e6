"""A text/plain alternative that only points at the HTML ("view this mail in a browser") gives way to
the HTML: the item's description and the reply come from the HTML's text."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from services.parser.stubs import MAX_STUB_CHARS, is_stub
from tests.unit.parser.conftest import parse

HTML = ("<html><body><p>Your order 1234 has shipped.</p><p>Tracking number: ZX99.</p>"
        "<blockquote>earlier mail</blockquote></body></html>")


def _alternative(plain: str, html: str = HTML) -> str:
    return ("From: news@shop.example\r\nTo: ann@example.com\r\nSubject: Order 1234\r\nMIME-Version: 1.0\r\n"
            "Content-Type: multipart/alternative; boundary=a\r\n\r\n--a\r\nContent-Type: text/plain; charset=utf-8\r\n"
            f"\r\n{plain}\r\n--a\r\nContent-Type: text/html; charset=utf-8\r\n\r\n{html}\r\n--a--\r\n")


STUBS = [
    "To view this email in your browser, go to https://shop.example/v/1",
    "View this message in a web browser: https://shop.example/v/1",
    "Having trouble? View it online: https://shop.example/v/1",
    "Your email client does not support HTML. Please open https://shop.example/v/1",
    "This is an HTML email. If you cannot read this, please enable HTML.",
    "If you are unable to see this message, click here.",
    "Diese E-Mail im Browser ansehen: https://shop.example/v/1",
    "Afficher ce message dans votre navigateur",
    "  \r\n-\r\n ",
]


@pytest.mark.parametrize("plain", STUBS)
def test_a_stub_plain_part_gives_way_to_the_html(plain: str) -> None:
    got = parse(_alternative(plain))
    assert got.text == "Your order 1234 has shipped.\n\nTracking number: ZX99.\n\nearlier mail"
    assert got.reply_text == "Your order 1234 has shipped.\n\nTracking number: ZX99."
    assert "body: the text/plain alternative is a stub, the text is the HTML's" in got.defects


@pytest.mark.parametrize("plain", [
    "Your order 1234 has shipped. Tracking number: ZX99.",
    "Plain text email goes here!\r\nThis is the fallback if email client does not support HTML",
    "Hi, the printer on floor 2 jams. Can you view the logs in your browser? Thanks",
    "Hi,\r\n\r\n" + "the report is attached and explains the failure in detail. " * 12
    + "\r\nView this email in your browser.",
])
def test_a_plain_part_with_content_of_its_own_stays_the_text(plain: str) -> None:
    got = parse(_alternative(plain))
    assert got.text == plain.replace("\r\n", "\n").strip("\n")
    assert not any("stub" in d for d in got.defects)


def test_a_stub_beside_an_html_saying_the_same_stays() -> None:
    plain = "View this email in your browser: https://shop.example/v/1"
    got = parse(_alternative(plain, f"<p>{plain}</p>"))
    assert got.text == plain and not any("stub" in d for d in got.defects)


def test_a_stub_in_a_mixed_mail_with_no_html_stays_the_text() -> None:
    raw = ("From: a@example.com\r\nSubject: s\r\nContent-Type: text/plain\r\n\r\n"
           "View this email in your browser: https://shop.example/v/1\r\n")
    assert parse(raw).text == "View this email in your browser: https://shop.example/v/1"


WORDS = st.lists(st.sampled_from(["order", "printer", "invoice", "please", "help", "broken", "the", "a", "1234"]),
                 min_size=1, max_size=40).map(" ".join)


@settings(max_examples=200, deadline=None)
@given(WORDS, WORDS)
def test_stub_phrases_anywhere_in_a_short_part_make_a_stub(before: str, after: str) -> None:
    text = f"{before} view this email in your browser {after}"
    assert is_stub(text) == (len(text.strip()) <= MAX_STUB_CHARS)


@settings(max_examples=200, deadline=None)
@given(WORDS)
def test_ordinary_words_are_no_stub(text: str) -> None:
    assert not is_stub(text)
