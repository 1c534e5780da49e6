"""Mail written to hurt: each gives a defined outcome (a message with defects, or a Reject with its
reason) within a time bound."""

from __future__ import annotations

import time

import pytest

from services.parser.limits import Limits
from shared.errors import Reject
from tests.unit.parser.conftest import parse

HEAD = "From: a@example.com\r\nTo: b@example.com\r\nMIME-Version: 1.0\r\n"


def _nested(levels: int) -> bytes:
    out = [HEAD.encode(), b"Subject: deep\r\n"]
    for i in range(levels):
        out.append(b'Content-Type: multipart/mixed; boundary="b%d"\r\n\r\n--b%d\r\n' % (i, i))
    out.append(b"Content-Type: text/plain\r\n\r\nhello\r\n")
    out.extend(b"--b%d--\r\n" % i for i in reversed(range(levels)))
    return b"".join(out)


def _many_parts(count: int) -> bytes:
    out = [HEAD.encode(), b'Subject: many\r\nContent-Type: multipart/mixed; boundary="x"\r\n\r\n']
    out.extend(b"--x\r\nContent-Type: text/plain\r\n\r\nx\r\n" for _ in range(count))
    out.append(b"--x--\r\n")
    return b"".join(out)


def _timed(raw: bytes, limits: Limits | None = None):  # type: ignore[no-untyped-def]
    started = time.monotonic()
    try:
        outcome = parse(raw, limits)
    except Reject as exc:
        outcome = exc
    return outcome, time.monotonic() - started


def test_a_subject_with_encoded_newlines_is_published_as_one_line() -> None:
    """CR/LF smuggled in an encoded word cannot start a new header in anything built from the subject."""
    mail = parse(HEAD + "Subject: =?utf-8?q?hi=0D=0ABcc:_victim@example.com=0A=00?= there\r\n\r\nbody\r\n")
    assert "\r" not in mail.subject and "\n" not in mail.subject and "\x00" not in mail.subject
    assert mail.subject == "hi Bcc: victim@example.com there"


def test_an_encoded_word_in_a_display_name_cannot_add_an_address() -> None:
    """Encoded words are decoded after the list is split, so their "," and ">" stay in the name."""
    mail = parse("From: =?utf-8?q?a@good.example=3E=2C_evil@bad.example?= <real@example.com>\r\n"
                 "To: b@example.com\r\nSubject: s\r\n\r\nbody\r\n")
    assert mail.from_ is not None and mail.from_.address == "real@example.com"
    assert mail.to[0].address == "b@example.com" and len(mail.to) == 1


def test_an_address_followed_by_another_in_brackets_gives_one_sender_and_a_defect() -> None:
    """The CVE-2023-27043 shape: one sender is published, and the mail says it looked wrong."""
    mail = parse("From: alice@example.org <bob@evil.example>\r\nSubject: s\r\n\r\nbody\r\n")
    assert mail.from_ is not None and mail.from_.address in {"alice@example.org", "bob@evil.example"}
    assert any(d.startswith("From:") for d in mail.defects)


def test_two_senders_publish_the_first_and_record_the_second() -> None:
    """A From with two addresses is legal (RFC 5322 3.6.2) but never silently merged."""
    mail = parse("From: a@example.com, b@example.com\r\nSubject: s\r\n\r\nbody\r\n")
    assert mail.from_ is not None and mail.from_.address == "a@example.com"
    assert "From: 2 addresses, the first is the sender" in mail.defects


@pytest.mark.parametrize("name, shown", [
    ("../../etc/passwd", "passwd"),
    ("..\\..\\windows\\system32\\evil.dll", "evil.dll"),
    ("invoice\u202efdp.exe", "invoicefdp.exe"),
    ("a\x00b.txt", "ab.txt"),
    ("..", "attachment-1.bin"),
    ("in\u200bvoice.pdf", "invoice.pdf"),  # zero-width space
    ("pay\u00adroll.xlsx", "payroll.xlsx"),  # soft hyphen
    ("report\u2060.pdf\u200d.exe", "report.pdf.exe"),  # word joiner, zero-width joiner
    ("\ufeffnotes.txt", "notes.txt"),  # a byte-order mark
    ("tag\U000e0041\U000e0042.doc", "tag.doc"),  # Unicode tag characters
    ("left\u200e\u061cright.txt", "leftright.txt"),  # direction marks
])
def test_attachment_names_lose_paths_controls_and_every_format_character(name: str, shown: str) -> None:
    """The published name has no directory part, NUL, control or format (Unicode Cf) character."""
    from email.message import EmailMessage

    msg = EmailMessage()
    msg["From"], msg["Subject"] = "a@example.com", "files"
    msg.set_content("see attached")
    msg.add_attachment(b"data", maintype="application", subtype="octet-stream", filename=name)
    mail = parse(msg.as_bytes())
    assert [a.filename for a in mail.attachments] == [shown]
    assert mail.attachments[0].extension == (shown.rpartition(".")[2] if "." in shown else "")


def test_the_real_extension_is_the_last_one() -> None:
    """``report.pdf.exe`` is an exe, whatever the name suggests."""
    from email.message import EmailMessage

    msg = EmailMessage()
    msg["From"] = "a@example.com"
    msg.set_content("x")
    msg.add_attachment(b"MZ", maintype="application", subtype="pdf", filename="report.pdf.EXE")
    assert parse(msg.as_bytes()).attachments[0].extension == "exe"


def test_a_300_level_nested_multipart_is_rejected_quickly() -> None:
    """The stdlib would recurse; the shape check refuses it first, naming the limit."""
    outcome, seconds = _timed(_nested(300))
    assert isinstance(outcome, Reject) and "MIME nesting deeper than 40" in str(outcome)
    assert seconds < 1.0


def test_nesting_within_the_limit_parses() -> None:
    """Depth itself is fine up to the limit."""
    outcome, seconds = _timed(_nested(30))
    assert not isinstance(outcome, Reject) and outcome.text == "hello"
    assert seconds < 2.0


def test_100000_tiny_parts_are_rejected_quickly() -> None:
    """The stdlib parse is quadratic in parts (80 s for these); the scan is linear."""
    outcome, seconds = _timed(_many_parts(100_000))
    assert isinstance(outcome, Reject) and "more than 2000 MIME parts" in str(outcome)
    assert seconds < 2.0


def test_a_1_mb_header_line_is_rejected_quickly() -> None:
    """Header parsing is quadratic in the header's length (100 s for this); it never starts."""
    raw = (HEAD + "Subject: s\r\nX-Junk: " + "a, " * 350_000 + "\r\n\r\nbody\r\n").encode()
    outcome, seconds = _timed(raw)
    assert isinstance(outcome, Reject) and "X-Junk" in str(outcome) and "exceeds the limit" in str(outcome)
    assert seconds < 1.0


def test_a_long_address_list_below_the_limit_parses_in_bounded_time() -> None:
    """60 KB of recipients: parsed a few at a time, linear."""
    raw = (HEAD.replace("To: b@example.com", "To: " + ", ".join(f"u{i}@example.com" for i in range(3500)))
           + "Subject: s\r\n\r\nbody\r\n").encode()
    outcome, seconds = _timed(raw)
    assert not isinstance(outcome, Reject) and len(outcome.to) == 1000
    assert any("kept the first 1000" in d for d in outcome.defects)
    assert seconds < 5.0


def test_an_oversized_mail_is_rejected_before_parsing() -> None:
    """The size limit names the size and the limit."""
    outcome, seconds = _timed((HEAD + "Subject: s\r\n\r\n" + "x" * 2000).encode(), Limits(max_message_bytes=1000))
    assert isinstance(outcome, Reject) and "exceeds the limit of 1000" in str(outcome)
    assert seconds < 1.0


def test_a_huge_header_block_is_rejected() -> None:
    """Many small header fields add up to a header block past its limit."""
    raw = (HEAD + "".join(f"X-H{i}: v\r\n" for i in range(40_000)) + "\r\nbody\r\n").encode()
    outcome, seconds = _timed(raw)
    assert isinstance(outcome, Reject) and "header block" in str(outcome)
    assert seconds < 1.0


def test_html_is_sanitized_of_scripts_handlers_and_remote_content() -> None:
    """Nothing runs and nothing is fetched when the HTML is shown; cid: images stay."""
    html = ('<p onclick="steal()">Hi<script>alert(1)</script></p><a href="javascript:alert(1)">x</a>'
            '<img src="https://tracker.example/pixel.gif"><img src="cid:logo@x"><iframe src="https://x"></iframe>'
            '<style>body{background:url(https://x)}</style><form action="https://x"><input></form>'
            '<div style="background:url(https://x)">s</div><a href="https://ok.example/">ok</a>')
    mail = parse(HEAD + "Subject: s\r\nContent-Type: text/html; charset=utf-8\r\n\r\n" + html)
    assert mail.html is not None
    for bad in ("script", "onclick", "javascript:", ' src="https://tracker.example', "iframe", "url(", "<form",
                "<input", "style="):
        assert bad not in mail.html
    assert 'src="cid:logo@x"' in mail.html and 'href="https://ok.example/"' in mail.html
    # The remote image's address is set aside, where no browser fetches it, for "Show remote images".
    assert '<img data-remote-src="https://tracker.example/pixel.gif">' in mail.html
    assert mail.text.startswith("Hi")
