"""The new text of a reply, apart from its quoted history and signature."""

from __future__ import annotations

import pytest

from services.parser.html import texts, to_text
from services.parser.replies import extract_reply, split_signature, strip_quote
from tests.unit.parser.conftest import parse


@pytest.mark.parametrize("text", [
    "Thanks, done.\n\nOn Mon, 2 Apr 2012 at 18:26, Bob <bob@example.com> wrote:\n> Can you?\n",
    "Thanks, done.\n\nOn Mon, 2 Apr 2012 at 18:26, Bob <bob@example.com>\nwrote:\n\n> Can you?\n",
    "Thanks, done.\n\n-----Original Message-----\nFrom: Bob\nSent: Monday\nSubject: Can you?\n",
    "Thanks, done.\n\nFrom: Bob [mailto:bob@example.com]\nSent: Monday, 2 April 2012\nTo: Ann\nSubject: x\n\nCan you?",
    "Thanks, done.\n\nAm 02.04.2012 um 18:26 schrieb Bob <bob@example.com>:\n> Can you?\n",
    "Thanks, done.\n> --- Reply above this line ---\n> Can you?\n",
    "Thanks, done.\n________________________________\nFrom: Bob\nCan you?",
])
def test_the_quoted_history_is_cut_in_every_client_style(text: str) -> None:
    """Attributions, Outlook blocks, rules and > quotes all start the history."""
    assert strip_quote(text) == "Thanks, done."


def test_a_bottom_posted_reply_keeps_the_unquoted_lines() -> None:
    """Nothing above the quote: the answer is what is not quoted."""
    assert strip_quote("On 04/02/2012, Bob wrote:\n> Can you?\nYes, done.") == "Yes, done."


def test_text_without_a_quote_is_kept_whole() -> None:
    """No history: the reply is the text."""
    assert strip_quote("Just a note.\nSecond line.") == "Just a note.\nSecond line."


@pytest.mark.parametrize("text, sender, signature", [
    ("Done.\n\n-- \nAnn Smith\nACME", "", "-- \nAnn Smith\nACME"),
    ("Done.\n\nSent from my iPhone", "", "Sent from my iPhone"),
    ("Done, see you.\n\nThanks,\nAnn", "Ann Smith", "Thanks,\nAnn"),
    ("Done, see you.\n\nThanks,\nAnn", "", ""),
])
def test_the_signature_is_split_off(text: str, sender: str, signature: str) -> None:
    """A rule, a mobile footer, or a last short paragraph naming the sender."""
    assert split_signature(text, sender)[1] == signature


def test_the_published_message_keeps_the_full_text_and_adds_the_reply() -> None:
    """reply_text is the new text; text still has everything."""
    mail = parse("From: Ann Smith <ann@example.com>\r\nSubject: Re: x\r\n\r\n"
                 "Fixed it.\r\n\r\nThanks,\r\nAnn\r\n\r\nOn Mon, Bob <bob@example.com> wrote:\r\n> broken\r\n")
    assert mail.reply_text == "Fixed it."
    assert "> broken" in mail.text and "Thanks," in mail.text


def test_an_html_only_reply_is_cut_at_its_blockquote() -> None:
    """Gmail's quote container ends the reply of an HTML-only mail."""
    html = ('<div>Fixed it.</div><div class="gmail_quote">On Mon, Bob &lt;b@x&gt; wrote:<br>'
            '<blockquote>broken</blockquote></div>')
    mail = parse("From: a@example.com\r\nSubject: Re\r\nContent-Type: text/html\r\n\r\n" + html)
    assert mail.reply_text == "Fixed it." and "broken" in mail.text


def test_one_reading_of_html_gives_its_whole_text_and_the_text_before_its_quote() -> None:
    """The text before the quote is the whole text's beginning, without the attribution."""
    html = ('<ul><li>one</li><li>two</li></ul><p>On Mon, Bob wrote:</p><blockquote><ol><li>old</li></ol>'
            '</blockquote><pre>after  it</pre>')
    whole, before = texts(html)
    assert whole == to_text(html) == "- one\n- two\n\nOn Mon, Bob wrote:\n\n1. old\n\nafter  it"
    assert before == to_text(html, cut_at_quote=True) == "- one\n- two"
    assert texts("<p>no quote</p>") == ("no quote", "no quote")


def test_extract_reply_joins_both_steps() -> None:
    """Quote first, then signature."""
    reply = extract_reply("Yes.\n\n-- \nAnn\n\nOn Mon, Bob <b@x> wrote:\n> q", "Ann")
    assert (reply.text, reply.signature) == ("Yes.", "-- \nAnn")
