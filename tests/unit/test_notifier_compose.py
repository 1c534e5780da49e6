"""The outgoing mail written as bytes parses back, with email.policy.default, to what was meant."""

from __future__ import annotations

import email
from email import policy
from email.header import decode_header, make_header
from email.utils import getaddresses
from email.message import EmailMessage

import pytest

from services.notifier.compose import build
from shared.templates import Rendered
from shared.contracts import Address, ItemChanged, ItemSummary, MailSummary


def _event(references: list[str], message_id: str = "<in@example.com>") -> ItemChanged:
    return ItemChanged(change="created", account="support", auto_reply=True,
                       item=ItemSummary(id=1, type="incident", number=7, title="t", status="new", project="IT"),
                       mail=MailSummary(message_id=message_id, subject="s", from_=None, references=references))


def _parsed(data: bytes) -> EmailMessage:
    return email.message_from_bytes(data, policy=policy.default)  # type: ignore[return-value]


def _lines(data: bytes) -> list[bytes]:
    assert b"\n" not in data.replace(b"\r\n", b""), "every line ends with CRLF"
    return data.split(b"\r\n")


@pytest.mark.parametrize("subject", ["[#7] Printer jammed", "Ticket [#7] — PRINTER JAMMED",
                                     "[#7] " + ("a rather long subject line " * 8).strip(),
                                     ("Grüße aus Köln " * 6).strip()])
@pytest.mark.parametrize("name", ["", "Ada", "Ærøskøbing Kundeservice — Ünïcödé Dëpärtmënt für sehr lange Anzeigenamen",
                                  'Doe, "John" <fake@evil.example>'])
def test_headers_parse_back_to_the_same_values_and_lines_stay_within_the_limits(subject: str, name: str) -> None:
    to = Address(name=name, address="ada@example.com")
    composed = build(_event(["<a@example.com>", "<b@example.com>"]), Rendered(subject, "Hello\n", "<p>Hello</p>"),
                     kind="auto-reply", from_address="support@example.test", to=to, message_id="<out@example.test>",
                     loop_id="postroom; default")
    msg = _parsed(composed.data)
    assert msg["Subject"] == subject and composed.subject == subject
    # RFC 2047's rule that white space between encoded words is dropped (the policy-based header
    # parser of Python 3.11 keeps a space there).
    raw_to = email.message_from_bytes(composed.data)["To"]
    assert getaddresses([str(make_header(decode_header(raw_to)))]) == [(name, "ada@example.com")]
    assert msg["From"] == "support@example.test" and msg["Message-ID"] == "<out@example.test>"
    assert msg["In-Reply-To"] == "<in@example.com>"
    assert msg["References"].split() == ["<a@example.com>", "<b@example.com>"]
    assert msg["Auto-Submitted"] == "auto-replied" and msg["X-Auto-Response-Suppress"] == "All"
    assert msg["X-Postroom-Loop"] == "postroom; default"
    assert composed.data.isascii()
    assert all(len(line) <= 78 for line in _lines(composed.data))


def test_a_value_with_line_breaks_stays_one_header() -> None:
    composed = build(_event([], message_id="<in@example.com>\r\nBcc: victim@example.org"),
                     Rendered("Help\r\nX-Evil: 1", "t", "h"), kind="created", from_address="support@example.test",
                     to=Address(address="ada@example.com"), message_id="<out@example.test>", loop_id="l")
    msg = _parsed(composed.data)
    assert msg["Bcc"] is None and msg["X-Evil"] is None
    assert composed.data.count(b"\r\nSubject:") + composed.data.startswith(b"Subject:") == 1


@pytest.mark.parametrize("text", ["Hello Ada,\n\nthank you.\n", "no final line end", "Grüße,\r\nÆrø — ☃\n",
                                  "a very long line " * 30 + "\n", "dots\n.\n..\nFrom the start\n"])
def test_both_parts_decode_to_the_rendered_text_and_the_history_keeps_the_text_part(text: str) -> None:
    html = "<p>" + text.replace("\n", "<br>") + "</p>"
    composed = build(_event([]), Rendered("s", text, html), kind="created", from_address="support@example.test",
                     to=Address(address="ada@example.com"), message_id="<out@example.test>", loop_id="l")
    msg = _parsed(composed.data)
    assert msg.get_content_type() == "multipart/alternative" and not msg.defects
    plain = msg.get_body(preferencelist=("plain",))
    expected = "\n".join(text.splitlines()) + "\n"
    assert plain is not None and plain.get_content().replace("\r\n", "\n") == expected == composed.text
    rich = msg.get_body(preferencelist=("html",))
    assert rich is not None and rich.get_content().replace("\r\n", "\n") == "\n".join(html.splitlines()) + "\n"
    assert composed.data.isascii()
    assert all(len(line) <= 78 for line in _lines(composed.data))
