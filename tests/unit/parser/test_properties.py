"""Whatever the bytes, the parser gives a normalized message or a Reject with a reason."""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from services.parser.limits import Limits
from shared.contracts import MailParsed
from shared.errors import Reject
from tests.unit.parser.conftest import parse

SMALL = Limits(max_message_bytes=64 * 1024, max_header_field_bytes=4096, max_header_bytes=16384, max_depth=8,
               max_parts=50)

# Fragments real mail is made of, so random mail reaches deep into the MIME code, not just headers.
FRAGMENTS = st.sampled_from([
    b"From: a@example.com\r\n", b"From: =?utf-8?q?=E2=82?= <x@y>\r\n", b"To: a@b, \"q\" <c@d>, g: e@f;\r\n",
    b"Subject: =?iso-2022-jp?b?GyRCJUYlOSVIGyhC?=\r\n", b"Subject: \xff\xfe\r\n", b"MIME-Version: 1.0\r\n",
    b'Content-Type: multipart/mixed; boundary="b"\r\n', b'Content-Type: multipart/alternative; boundary="b"\r\n',
    b"Content-Type: text/html; charset=uft-8\r\n", b"Content-Type: text/plain; charset=unknown\r\n",
    b"Content-Type: message/rfc822\r\n", b"Content-Type: application/ms-tnef; name=winmail.dat\r\n",
    b"Content-Transfer-Encoding: base64\r\n", b"Content-Transfer-Encoding: quoted-printable\r\n",
    b"Content-Disposition: attachment; filename*0*=utf-8''%E2%80%AE..%2F; filename*1=x.exe\r\n",
    b"Date: Mon, 2 Apr 2012 18:26:00 +0400\r\n", b"Date: garbage\r\n", b"\r\n", b"--b\r\n", b"--b--\r\n",
    b"aGVsbG8\r\n", b"=E2=82=AC=\r\n", b"<p onclick=x>hi<script>x</script><img src=http://t>\r\n",
    b"> quoted\r\n", b"On Mon, Bob <b@x> wrote:\r\n", b"\x1b$B%F\x1b(B\r\n", b" folded\r\n",
])


def _outcome(raw: bytes) -> MailParsed | Reject:
    try:
        return parse(raw, SMALL)
    except Reject as exc:
        return exc


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.binary(max_size=2048))
def test_arbitrary_bytes_give_a_message_or_a_reject(raw: bytes) -> None:
    """No other exception escapes; a Reject always says why."""
    outcome = _outcome(raw)
    assert isinstance(outcome, (MailParsed, Reject))
    if isinstance(outcome, Reject):
        assert str(outcome)


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.one_of(FRAGMENTS, st.binary(max_size=40)), max_size=60))
def test_mail_shaped_bytes_give_a_one_line_subject_and_safe_names(pieces: list[bytes]) -> None:
    """Random mail from real fragments: the published message keeps its guarantees."""
    outcome = _outcome(b"".join(pieces))
    assert isinstance(outcome, (MailParsed, Reject))
    if isinstance(outcome, MailParsed):
        assert "\n" not in outcome.subject and "\r" not in outcome.subject
        for a in outcome.attachments:
            assert a.filename and "/" not in a.filename and "\\" not in a.filename and "\u202e" not in a.filename
        if outcome.html is not None:
            assert "<script" not in outcome.html and "onclick" not in outcome.html
        outcome.model_dump_json()  # publishable: no lone surrogates anywhere
