"""Header text whose charset is missing or wrong: raw 8-bit GB2312, Shift_JIS and EUC-KR subjects,
Shift_JIS in words labelled ISO-2022-JP, UTF-8 labelled ISO-8859-1, raw 8-bit and mislabelled file
names. The body's declared charset is the first guess; no subject or name carries U+FFFD when a
clean reading exists, and every guess is a defect."""

from __future__ import annotations

import base64
from urllib.parse import quote_from_bytes

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from services.parser import header_charsets
from tests.unit.parser.conftest import parse


def _mail(subject: bytes, body_charset: str = "utf-8", filename: bytes | None = None,
          disposition: bytes | None = None) -> bytes:
    head = b"From: ann@example.com\r\nTo: help@example.com\r\nSubject: " + subject + b"\r\nMIME-Version: 1.0\r\n"
    text = b"Content-Type: text/plain; charset=" + body_charset.encode() + b"\r\n\r\nbody\r\n"
    if filename is None and disposition is None:
        return head + text
    disposition = disposition or b'attachment; filename="' + (filename or b"") + b'"'
    return (head + b"Content-Type: multipart/mixed; boundary=b\r\n\r\n--b\r\n" + text + b"--b\r\n"
            b"Content-Type: application/pdf\r\nContent-Disposition: " + disposition + b"\r\n\r\nx\r\n--b--\r\n")


@pytest.mark.parametrize(("text", "codec", "body"), [
    ("关于发票的问题", "gb2312", "gb2312"),
    ("您好，我的打印机坏了", "gb2312", "gb2312"),
    ("发票", "gb2312", "GB2312"),  # two characters: Hangul under EUC-KR too, the body decides
    ("關於發票的問題", "big5", "big5"),
    ("請求書について", "shift_jis", "shift_jis"),
    ("見積書", "shift_jis", "Shift_JIS"),
    ("견적서 요청드립니다", "euc-kr", "euc-kr"),
    ("Счет на оплату", "cp1251", "windows-1251"),
])
def test_a_raw_8bit_subject_is_read_in_the_body_s_charset(text: str, codec: str, body: str) -> None:
    got = parse(_mail(text.encode(codec), body))
    assert got.subject == text
    assert any(d.startswith("Subject: raw 8-bit header is not UTF-8, decoded as") for d in got.defects)


@pytest.mark.parametrize(("text", "codec"), [
    ("关于发票的问题", "gb2312"), ("系统故障报告", "gb2312"), ("订单确认：12345号", "gb2312"),
    ("請求書について", "shift_jis"), ("お見積りのご依頼", "shift_jis"), ("견적서 요청드립니다", "euc-kr"),
    ("Счет на оплату", "cp1251"), ("Die Hasen und die Frösche", "cp1252"), ("Réunion de l'équipe", "cp1252"),
])
def test_a_raw_8bit_subject_without_a_hint_is_detected(text: str, codec: str) -> None:
    assert parse(_mail(text.encode(codec), "utf-8")).subject == text


_SJIS = "請求書について".encode("shift_jis")


@pytest.mark.parametrize("word", [
    b"=?ISO-2022-JP?B?" + base64.b64encode(_SJIS) + b"?=",
    b"=?iso-2022-jp?Q?" + b"".join(b"=%02X" % c for c in _SJIS) + b"?=",
    b"=?csISO2022JP?B?" + base64.b64encode(_SJIS) + b"?=",
])
def test_shift_jis_labelled_iso_2022_jp_is_read_as_shift_jis(word: bytes) -> None:
    got = parse(_mail(word, "iso-2022-jp"))
    assert got.subject == "請求書について"
    assert any(d.startswith("Subject: not valid") and d.endswith("decoded as shift_jis") for d in got.defects)


def test_real_iso_2022_jp_is_still_iso_2022_jp() -> None:
    word = b"=?ISO-2022-JP?B?" + base64.b64encode("請求書について".encode("iso2022_jp")) + b"?="
    got = parse(_mail(word))
    assert got.subject == "請求書について" and got.defects == []


@pytest.mark.parametrize(("word", "want"), [
    (b"=?iso-8859-1?Q?Gr=C3=BC=C3=9Fe?=", "Grüße"),
    (b"=?windows-1252?B?" + base64.b64encode("Grüße aus Köln".encode()) + b"?=", "Grüße aus Köln"),
    (b"=?us-ascii?Q?caf=C3=A9?=", "café"),
])
def test_utf8_under_a_single_byte_label_is_read_as_utf8(word: bytes, want: str) -> None:
    got = parse(_mail(word))
    assert got.subject == want and any("decoded as utf-8" in d for d in got.defects)


def test_a_latin_word_under_its_own_label_is_left_alone() -> None:
    got = parse(_mail(b"=?iso-8859-1?Q?Gr=FC=DFe?="))
    assert got.subject == "Grüße" and got.defects == []


def test_a_utf8_label_on_gb2312_bytes_takes_the_body_s_charset() -> None:
    word = b"=?utf-8?B?" + base64.b64encode("关于发票的问题".encode("gb2312")) + b"?="
    got = parse(_mail(word, "gb2312"))
    assert got.subject == "关于发票的问题" and "Subject: not valid 'utf-8', decoded as gb18030" in got.defects


@pytest.mark.parametrize(("name", "codec", "body"), [
    ("見積書.pdf", "shift_jis", "shift_jis"), ("关于发票.pdf", "gb2312", "gb2312"),
    ("Hasen und Frösche.pdf", "cp1252", "iso-8859-1"), ("請求書について.pdf", "shift_jis", "utf-8"),
])
def test_a_raw_8bit_file_name_is_read_cleanly(name: str, codec: str, body: str) -> None:
    got = parse(_mail(b"s", body, filename=name.encode(codec)))
    assert [a.filename for a in got.attachments] == [name]
    assert any(d.startswith("attachment name: raw 8-bit header is not UTF-8") for d in got.defects)


def test_an_rfc2231_file_name_under_a_wrong_charset_is_read_cleanly() -> None:
    value = quote_from_bytes("見積書.pdf".encode("shift_jis"), safe=".").encode()
    got = parse(_mail(b"s", disposition=b"attachment; filename*=iso-2022-jp''" + value))
    assert [a.filename for a in got.attachments] == ["見積書.pdf"]


def test_an_rfc2231_file_name_under_its_own_charset_needs_no_second_reading() -> None:
    value = quote_from_bytes("Grüße.pdf".encode(), safe=".").encode()
    got = parse(_mail(b"s", disposition=b"attachment; filename*=utf-8''" + value))
    assert [a.filename for a in got.attachments] == ["Grüße.pdf"] and got.defects == []


@settings(max_examples=300, deadline=None)
@given(st.binary(min_size=1, max_size=60).filter(lambda b: not b.isascii()))
def test_no_u_fffd_when_a_clean_reading_exists(data: bytes) -> None:
    defects: list[str] = []
    text = header_charsets.read(data, None, None, defects, "Subject")
    if any(_reads(data, c) for c in ("utf-8", "cp1252", "gb18030", "cp932", "cp949")):
        assert "\ufffd" not in text
    try:
        data.decode("utf-8")
    except UnicodeDecodeError:
        assert defects


def _reads(data: bytes, codec: str) -> bool:
    try:
        return "\ufffd" not in data.decode(codec)
    except UnicodeDecodeError:
        return False


def _not_utf8(text: str, codec: str) -> bool:
    """Bytes that are valid UTF-8 are read as UTF-8 (RFC 6532 allows raw UTF-8 headers): only the
    rest is another charset's to claim. ("一" in GB2312 is D2 BB, which is UTF-8 for "һ".)"""
    return not _reads(text.encode(codec), "utf-8")


KANA_KANJI = st.text(alphabet="あいうえおかきくけこさしすせそアイウエオカキクケコ請求書見積依頼件御中様", min_size=1,
                     max_size=20).filter(lambda t: _not_utf8(t, "shift_jis"))
HANZI = st.text(alphabet="的一是不了人我在有他这中大来上国个到说们为子和你地出道也时年关于发票问题打印机坏", min_size=1,
                max_size=20).filter(lambda t: _not_utf8(t, "gb2312"))


@settings(max_examples=150, deadline=None)
@given(KANA_KANJI)
def test_any_shift_jis_subject_reads_back_under_its_body_s_charset(text: str) -> None:
    assert parse(_mail(text.encode("shift_jis"), "shift_jis")).subject == text


@settings(max_examples=150, deadline=None)
@given(HANZI)
def test_any_gb2312_subject_reads_back_under_its_body_s_charset(text: str) -> None:
    assert parse(_mail(text.encode("gb2312"), "gb2312")).subject == text


def _undeclared(subject: bytes, filename: bytes | None = None) -> bytes:
    """A mail that declares no charset anywhere: no MIME header at all, or parts without one."""
    head = b"From: ann@example.com\r\nTo: help@example.com\r\nSubject: " + subject + b"\r\n"
    if filename is None:
        return head + b"\r\nbody text\r\n"
    return head + (b"MIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=b\r\n\r\n--b\r\n"
                   b"Content-Type: text/plain\r\n\r\nbody\r\n--b\r\nContent-Type: application/pdf\r\n"
                   b'Content-Disposition: attachment; filename="' + filename + b'"\r\n\r\nx\r\n--b--\r\n')


UNDECLARED = [
    ("關於發票的問題", "big5"), ("發票", "big5"), ("我的印表機壞了", "big5"), ("訂單確認", "big5"),
    ("會議", "big5"), ("報告", "big5"),
    ("견적서 요청드립니다", "euc-kr"), ("문의", "euc-kr"), ("안녕하세요", "euc-kr"), ("견적", "euc-kr"),
    ("긴급 확인 부탁드립니다", "euc-kr"),
    ("关于发票的问题", "gbk"), ("发票", "gbk"), ("您好", "gbk"), ("订单确认", "gbk"), ("打印机坏了", "gbk"),
    ("附件", "gbk"), ("系统故障", "gbk"), ("請求書について", "shift_jis"),
]


@pytest.mark.parametrize(("text", "codec"), UNDECLARED)
def test_a_raw_8bit_subject_in_a_mail_that_declares_no_charset_is_read_cleanly(text: str, codec: str) -> None:
    got = parse(_undeclared(text.encode(codec)))
    assert got.subject == text
    assert any(d.startswith("Subject: raw 8-bit header is not UTF-8, decoded as") for d in got.defects)


@pytest.mark.parametrize(("text", "codec"), UNDECLARED)
def test_a_raw_8bit_file_name_in_a_mail_that_declares_no_charset_is_read_cleanly(text: str, codec: str) -> None:
    got = parse(_undeclared(b"s", (text + ".pdf").encode(codec)))
    assert [a.filename for a in got.attachments] == [text + ".pdf"]


def test_a_tie_between_gbk_and_big5_goes_to_the_body_s_charset() -> None:
    """订单 in GBK is 隆等 in Big5, both common characters: the body's Big5 decides for Big5."""
    data = "隆等".encode("big5")
    assert parse(_undeclared(data)).subject == "订单"
    assert parse(_mail(data, "big5")).subject == "隆等"


@pytest.mark.parametrize(("label", "text", "codec", "want"), [
    (b"gb2312", "關於發票的問題", "big5", "reads as unlikely text, decoded as big5hkscs"),  # GBK: private use
    (b"GBK", "我的印表機壞了", "big5", "reads as unlikely text, decoded as big5hkscs"),
    (b"euc-kr", "关于发票的问题", "gbk", "reads as unlikely text, decoded as gb18030"),  # Hangul nobody writes
    (b"big5", "請求書について", "shift_jis", "not valid 'big5', decoded as shift_jis"),  # not Big5 at all
])
def test_a_cjk_label_the_bytes_contradict_gives_the_clean_reading(label: bytes, text: str, codec: str,
                                                                   want: str) -> None:
    word = b"=?" + label + b"?B?" + base64.b64encode(text.encode(codec)) + b"?="
    got = parse(_mail(word))
    assert got.subject == text
    assert any(d.startswith("Subject: ") and d.endswith(want) for d in got.defects), got.defects


@pytest.mark.parametrize(("label", "text", "codec"), [
    (b"gb2312", "关于发票的问题", "gb2312"), (b"big5", "關於發票的問題", "big5"), (b"euc-kr", "견적서 요청드립니다", "euc-kr"),
    (b"big5", "訂單確認", "big5"), (b"gb2312", "订单", "gb2312"),
    (b"big5", "①②③", "big5hkscs"), (b"big5", "【通知】", "big5hkscs"), (b"euc-kr", "①번 문의", "euc-kr"),
    (b"gb2312", "【通知】", "gb2312"), (b"euc-kr", "株式會社", "euc-kr"),  # symbols and hanja under their label
])
def test_a_cjk_label_the_bytes_fit_is_kept(label: bytes, text: str, codec: str) -> None:
    word = b"=?" + label + b"?B?" + base64.b64encode(text.encode(codec)) + b"?="
    got = parse(_mail(word))
    assert got.subject == text and got.defects == []


def _not_utf8_raw(text: str, codec: str) -> bool:
    return _not_utf8(text, codec)


TRADITIONAL = st.text(alphabet="的一是不了人我在有他這中大來上國個到說們為子和你地出道也時年關於發票問題印表機壞請",
                      min_size=4, max_size=20).filter(lambda t: _not_utf8_raw(t, "big5"))
SIMPLIFIED = st.text(alphabet="的一是不了人我在有他这中大来上国个到说们为子和你地出道也时年关于发票问题打印机坏",
                     min_size=3, max_size=20).filter(lambda t: _not_utf8_raw(t, "gbk"))
KOREAN = st.lists(st.sampled_from("견적 문의 요청 확인 주문 배송 환불 취소 결제 계약 회의 안내 공지 감사 부탁 드립니다 "
                                  "안녕하세요 고객님 문제 오류 접속 비밀번호 계정 등록 파일 첨부 보고서 일정 변경".split()),
                  min_size=1, max_size=5).map(" ".join).filter(lambda t: _not_utf8_raw(t, "euc-kr"))


@settings(max_examples=150, deadline=None)
@given(st.one_of(TRADITIONAL.map(lambda t: (t, "big5")), SIMPLIFIED.map(lambda t: (t, "gbk")),
                 KOREAN.map(lambda t: (t, "euc-kr"))))
def test_any_big5_gbk_or_korean_subject_reads_back_with_no_charset_declared(case: tuple[str, str]) -> None:
    text, codec = case
    assert parse(_undeclared(text.encode(codec))).subject == text


@settings(max_examples=200, deadline=None)
@given(st.binary(min_size=2, max_size=40).filter(lambda b: not b.isascii()))
def test_the_reading_chosen_is_one_of_the_clean_ones(data: bytes) -> None:
    """Whatever the bytes, the subject is the bytes read by some charset without a replacement."""
    text = header_charsets.read(data, None, None, [], "Subject")
    codecs = ["utf-8", "cp1252", "cp1251", "gb18030", "big5hkscs", "cp949", "cp932", "euc_jp",
              *header_charsets._DETECTABLE]
    readings = [data.decode(c) for c in codecs if _reads(data, c)]
    if readings:
        assert text in readings or _reads(data, "utf-8")
