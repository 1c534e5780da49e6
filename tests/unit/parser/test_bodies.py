"""Body selection like a mail client, charsets, broken encodings and attachment names."""

from __future__ import annotations

import base64

from tests.unit.parser.conftest import parse

HEAD = "From: Ann <ann@example.com>\r\nTo: b@example.com\r\nSubject: s\r\nMIME-Version: 1.0\r\n"


def _multipart(kind: str, *parts: str, boundary: str = "B") -> str:
    body = "".join(f"--{boundary}\r\n{p}\r\n" for p in parts)
    return f'Content-Type: multipart/{kind}; boundary="{boundary}"\r\n\r\n{body}--{boundary}--\r\n'


PLAIN = "Content-Type: text/plain; charset=utf-8\r\n\r\nplain words"
HTML = "Content-Type: text/html; charset=utf-8\r\n\r\n<p>html <b>words</b></p>"
PNG = ("Content-Type: image/png\r\nContent-ID: <logo@x>\r\nContent-Transfer-Encoding: base64\r\n\r\n"
       + base64.b64encode(b"\x89PNG fake").decode())


def test_plain_text_is_preferred_in_an_alternative() -> None:
    """multipart/alternative: the text is the plain part, the HTML is kept sanitized beside it."""
    mail = parse(HEAD + _multipart("alternative", PLAIN, HTML))
    assert mail.text == "plain words" and mail.html == "<p>html <b>words</b></p>" and mail.attachments == []


def test_html_alone_is_converted_to_readable_text() -> None:
    """With no plain part the text is the HTML's words, blocks on their own lines."""
    mail = parse(HEAD + "Content-Type: text/html\r\n\r\n<h1>Title</h1><p>One<br>Two</p><ul><li>a</li><li>b</li></ul>")
    assert mail.text == "Title\n\nOne\nTwo\n\n- a\n- b"


def test_an_empty_plain_part_yields_to_the_html() -> None:
    """An empty text/plain beside real HTML: the body comes from the HTML."""
    mail = parse(HEAD + _multipart("alternative", "Content-Type: text/plain\r\n\r\n", HTML))
    assert mail.text == "html words"


def test_related_inline_images_are_attachments_marked_inline_with_their_cid() -> None:
    """multipart/related with a cid: image: the image is an inline attachment, not body text."""
    related = _multipart("related", HTML.replace("</p>", '<img src="cid:logo@x"></p>'), PNG, boundary="R")
    mail = parse(HEAD + _multipart("alternative", PLAIN, related))
    assert mail.text == "plain words"
    assert [(a.content_type, a.inline, a.content_id, a.size) for a in mail.attachments] == \
        [("image/png", True, "<logo@x>", 9)]
    assert 'src="cid:logo@x"' in (mail.html or "")


def test_an_inline_image_without_content_disposition_is_still_an_attachment() -> None:
    """Outlook sends images in mixed with no disposition: they are listed, not lost."""
    mail = parse(HEAD + _multipart("mixed", PLAIN, PNG))
    assert mail.text == "plain words" and [a.content_type for a in mail.attachments] == ["image/png"]


def test_a_forwarded_message_is_an_eml_attachment_and_not_body_text() -> None:
    """message/rfc822 is attached whole; its text does not join the body."""
    inner = "Content-Type: message/rfc822\r\n\r\nFrom: c@example.com\r\nSubject: inner\r\n\r\nsecret inner text\r\n"
    mail = parse(HEAD + _multipart("mixed", PLAIN, inner))
    assert mail.text == "plain words"
    assert [(a.filename, a.content_type) for a in mail.attachments] == [("attachment-1.eml", "message/rfc822")]
    assert "secret inner text" not in mail.text


def test_an_attachment_only_mail_has_an_empty_text() -> None:
    """No text part at all: the body is empty and the file is listed."""
    pdf = 'Content-Type: application/pdf; name="a.pdf"\r\nContent-Disposition: attachment\r\n\r\n%PDF'
    mail = parse(HEAD + _multipart("mixed", pdf))
    assert mail.text == "" and [a.filename for a in mail.attachments] == ["a.pdf"]


def test_rfc2231_names_with_continuations_are_joined_and_decoded() -> None:
    """filename*0*/filename*1* with a charset and percent-encoding."""
    part = ("Content-Type: application/octet-stream\r\nContent-Disposition: attachment;\r\n"
            " filename*0*=utf-8''Gr%C3%BC%C3%9Fe;\r\n filename*1*=%20aus%20K%C3%B6ln.txt\r\n\r\nx")
    mail = parse(HEAD + _multipart("mixed", PLAIN, part))
    assert [a.filename for a in mail.attachments] == ["Grüße aus Köln.txt"]


def test_a_name_only_in_content_type_and_rfc2047_encoded_is_used() -> None:
    """Old clients put the name in Content-Type; many encode it with RFC 2047."""
    part = 'Content-Type: text/plain; name="=?iso-8859-1?q?r=E9sum=E9.txt?="\r\n\r\nx'
    mail = parse(HEAD + _multipart("mixed", PLAIN, part))
    assert [a.filename for a in mail.attachments] == ["résumé.txt"]


def test_a_zero_byte_attachment_is_listed_with_size_zero() -> None:
    """An empty file is still a file the sender attached."""
    part = 'Content-Type: application/json; name="r.json"\r\nContent-Disposition: attachment\r\n\r\n'
    mail = parse(HEAD + _multipart("mixed", PLAIN, part))
    assert [(a.filename, a.size) for a in mail.attachments] == [("r.json", 0)]


def test_mislabelled_charsets_decode_and_record_what_was_guessed() -> None:
    """uft-8, iso-8859-8-i and unknown: text comes out, the guess is recorded."""
    for label, data, want in (("uft-8", "grüße".encode(), "grüße"), ("iso-8859-8-i", "שלום".encode("iso-8859-8"), "שלום")):
        raw = (HEAD + f"Content-Type: text/plain; charset={label}\r\nContent-Transfer-Encoding: 8bit\r\n\r\n").encode()
        assert parse(raw + data).text == want
    mail = parse((HEAD + "Content-Type: text/plain; charset=unknown\r\n\r\n").encode() + "naïve".encode("cp1252"))
    assert mail.text == "naïve" and any("no usable charset" in d for d in mail.defects)


def test_bytes_that_do_not_decode_are_replaced_and_recorded() -> None:
    """Invalid UTF-8 gives U+FFFD and a defect, never an exception."""
    mail = parse((HEAD + "Content-Type: text/plain; charset=utf-8\r\n\r\n").encode() + b"ok \xff\xfe end")
    assert "ok" in mail.text and "\ufffd" in mail.text and any("replaced" in d for d in mail.defects)


def test_raw_8bit_and_encoded_headers_are_decoded() -> None:
    """Raw UTF-8, raw Latin-1, RFC 2047 words split mid-character, ISO-2022-JP."""
    raw = ("From: =?utf-8?b?w4TDpA==?= =?utf-8?b?IMOWw7Y=?= <x@example.com>\r\nSubject: Grüße\r\n\r\nb").encode()
    mail = parse(raw)
    assert mail.subject == "Grüße" and mail.from_ is not None and mail.from_.name == "Ää Öö"
    assert parse(b"Subject: Fr\xf6sche\r\n\r\nb").subject == "Frösche"
    split = "Subject: =?utf-8?q?=E2=82?= =?utf-8?q?=AC_sign?=\r\n\r\nb"  # one character over two words
    assert parse(split).subject == "€ sign"
    jis = "Subject: =?iso-2022-jp?b?" + base64.b64encode("テスト①".encode("cp932").decode("cp932").encode("iso2022_jp_2004")).decode() + "?=\r\n\r\nb"
    assert parse(jis).subject.startswith("テスト")


def test_bad_base64_padding_gives_the_bytes_and_a_defect() -> None:
    """Base64 without its padding still decodes; the defect says so."""
    part = "Content-Type: application/octet-stream; name=a.bin\r\nContent-Transfer-Encoding: base64\r\n\r\naGVsbG8"
    mail = parse(HEAD + _multipart("mixed", PLAIN, part))
    assert mail.attachments[0].size == 5 and any("Base64" in d for d in mail.defects)


def test_a_missing_closing_boundary_and_truncation_still_give_the_text() -> None:
    """A truncated mail is parsed as far as it goes, with the defect recorded."""
    mail = parse(HEAD + 'Content-Type: multipart/mixed; boundary="B"\r\n\r\n--B\r\n' + PLAIN + "\r\n--B\r\nContent-Type: app")
    assert mail.text.startswith("plain words") and mail.defects


def test_a_missing_boundary_parameter_is_a_defect_not_a_failure() -> None:
    """multipart with no boundary: the body is kept as text, the defect recorded."""
    mail = parse(HEAD + "Content-Type: multipart/mixed\r\n\r\nsome text\r\n")
    assert any("NoBoundaryInMultipartDefect" in d for d in mail.defects)


def test_broken_quoted_printable_decodes_what_it_can() -> None:
    """A lone "=" and bad hex do not stop the decoding."""
    raw = HEAD + "Content-Type: text/plain\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\nA=3DB =ZZ end=\r\nnext"
    assert parse(raw).text.startswith("A=B =ZZ end")
