"""Big base64 bodies held out of the stdlib parser come out exactly as the stdlib parser gives them:
the same bytes and the same defects, whether the cut is kept or the mail is parsed whole."""

from __future__ import annotations

import base64
import binascii
import hashlib
import itertools
import random
from email import policy
from email.message import Message
from pathlib import Path

import pytest

from services.parser import held
from services.parser.handlers import normalize
from services.parser.limits import Limits, check_shape
from shared.store import FilesystemBlobStore
from tests.unit.parser.conftest import FETCHED, TOKENS

DATA = random.Random(5).randbytes(60_000)
B64 = base64.encodebytes(DATA).replace(b"\n", b"\r\n")
TEXT = (b"Content-Type: text/plain\r\n", b"hello")
PROSE = b"".join(b"line %d: the quick brown fox jumps over the lazy dog\r\n" % n for n in range(1500))
UUENCODED = (b"begin 644 a.bin\r\n" + b"".join(binascii.b2a_uu(DATA[at:at + 45]).replace(b"\n", b"\r\n")
                                                for at in range(0, 45 * 600, 45)) + b"`\r\nend")
ATTACHED = (b"Content-Type: application/octet-stream\r\nContent-Transfer-Encoding: base64\r\n"
            b"Content-Disposition: attachment; filename=a.bin\r\n")


def _mail(parts: list[tuple[bytes, bytes]], boundary: bytes = b"BoUnD") -> bytes:
    out = [b"From: a@example.com\r\nSubject: x\r\nMIME-Version: 1.0\r\n",
           b'Content-Type: multipart/mixed; boundary="' + boundary + b'"\r\n\r\npreamble\r\n']
    out += [b"--" + boundary + b"\r\n" + head + b"\r\n" + body + b"\r\n" for head, body in parts]
    return b"".join(out) + b"--" + boundary + b"--\r\n"


CASES = {
    "plain base64": _mail([TEXT, (ATTACHED, B64)]),
    "LF line ends": _mail([TEXT, (ATTACHED, B64)]).replace(b"\r\n", b"\n"),
    "CR line ends in the body": _mail([TEXT, (ATTACHED, B64.replace(b"\r\n", b"\r"))]),
    "a character outside base64": _mail([TEXT, (ATTACHED, B64[:30000] + b"!!" + B64[30000:])]),
    "padding in the middle": _mail([TEXT, (ATTACHED, B64[:40000] + b"==\r\n" + B64[40000:])]),
    "padding missing": _mail([TEXT, (ATTACHED, B64.rstrip(b"=\r\n") + b"\r\n")]),
    "one character too many": _mail([TEXT, (ATTACHED, B64.rstrip(b"=\r\n") + b"A\r\n")]),
    "a delimiter of another case": _mail([TEXT, (ATTACHED, B64)]).replace(b"\r\n--BoUnD--", b"\r\n--bound--"),
    "white space after the delimiter": _mail([TEXT, (ATTACHED, B64)]).replace(b"\r\n--BoUnD--", b"\r\n--BoUnD-- \t"),
    "a near-delimiter inside the body": _mail([TEXT, (ATTACHED, B64[:20000] + b"\r\n--BoUnDx\r\n" + B64[20000:])]),
    "never closed": _mail([TEXT, (ATTACHED, B64)]).rsplit(b"--BoUnD--", 1)[0],
    "two encodings declared": _mail([TEXT, (ATTACHED + b"Content-Transfer-Encoding: 7bit\r\n", B64)]),
    "nested multipart": _mail([TEXT, (b"Content-Type: multipart/alternative; boundary=inner\r\n",
                                      b"--inner\r\n" + ATTACHED + b"\r\n" + B64 + b"\r\n--inner--")]),
    "inside an attached message": _mail([TEXT, (b"Content-Type: message/rfc822\r\n",
                                                _mail([TEXT, (ATTACHED, B64)], b"zz"))]),
    "a single-part mail": (b"From: a@example.com\r\nContent-Type: application/pdf\r\n"
                           b"Content-Transfer-Encoding: base64\r\n\r\n" + B64),
    "a digest's part with no headers": _mail([(b"", B64)]).replace(b"multipart/mixed", b"multipart/digest"),
    "no blank line after the headers": _mail([TEXT, (ATTACHED + B64[:78], B64)]),
    # Any body no line of which can be a delimiter is held too, and read whole when first asked for.
    "a big 7bit text body": _mail([TEXT, (b"Content-Type: text/plain; charset=utf-8\r\n", PROSE)]),
    "a big text body with LF line ends": _mail([TEXT, (b"Content-Type: text/plain\r\n", PROSE)]).replace(b"\r\n", b"\n"),
    "a big text body with CR line ends": _mail([TEXT, (b"Content-Type: text/plain\r\n", PROSE.replace(b"\r\n", b"\r"))]),
    "a big quoted-printable body": _mail([TEXT, (b"Content-Type: text/plain; charset=latin-1\r\n"
                                                 b"Content-Transfer-Encoding: quoted-printable\r\n",
                                                 PROSE.replace(b"fox", b"f=F6x=\r\n") + b"soft break at the end=")]),
    "8-bit bytes in a big body": _mail([TEXT, (b"Content-Type: application/octet-stream\r\n"
                                               b"Content-Transfer-Encoding: 8bit\r\n", PROSE + bytes(range(128, 256)))]),
    "a big body that is not base64 though it says so": _mail([TEXT, (ATTACHED, PROSE)]),
    "a big uuencoded body": _mail([TEXT, (b"Content-Type: application/octet-stream\r\n"
                                          b"Content-Transfer-Encoding: x-uuencode\r\n", UUENCODED)]),
    "a line starting with -- in a big text body": _mail([TEXT, (b"Content-Type: text/plain\r\n",
                                                               PROSE + b"\r\n--BoUnDx not quite\r\n" + PROSE)]),
    "a big text body of a single-part mail": b"From: a@example.com\r\nContent-Type: text/plain\r\n\r\n" + PROSE,
    "many small base64 bodies": _mail([TEXT] + [(ATTACHED, B64[:n * 7 + 4000]) for n in range(400)]),
    "many small text bodies": _mail([TEXT] + [(b"Content-Type: text/plain\r\n", PROSE[:n * 5 + 3000])
                                              for n in range(600)]),
}


def _leaves(msg: Message) -> list[tuple[str, bytes | None, list[str]]]:
    found = []
    for part in msg.walk():
        if not part.is_multipart():
            data = part.get_payload(decode=True)
            found.append((part.get_content_type(), data, [type(d).__name__ for d in part.defects]))
    return found


@pytest.mark.parametrize("raw", list(CASES.values()), ids=list(CASES))
def test_a_held_body_decodes_to_what_the_stdlib_parser_gives(raw: bytes) -> None:
    """Every leaf's decoded payload and defects match a whole parse of the same bytes."""
    whole = held.parse(raw, [])  # no leaves to hold: the stdlib parser reads everything
    cut = held.parse(raw, check_shape(raw, Limits()))
    assert _leaves(cut) == _leaves(whole)
    assert [type(d).__name__ for d in cut.defects] == [type(d).__name__ for d in whole.defects]


@pytest.mark.parametrize("case", ["a big 7bit text body", "a big text body with LF line ends",
                                  "a big text body with CR line ends", "a big quoted-printable body",
                                  "8-bit bytes in a big body", "a big uuencoded body", "many small text bodies"])
def test_a_held_body_that_is_not_base64_is_held_and_read_as_the_stdlib_reads_it(case: str) -> None:
    """Not decoded in chunks: the part reads its body whole, as the stdlib parser would have, once
    asked for it; the undecoded payload matches too."""
    raw = CASES[case]
    cut = held.parse(raw, check_shape(raw, Limits()))
    kept = [p for p in cut.walk() if isinstance(p, held.MailPart) and p.held is not None]
    assert kept and not any(p.held_base64 for p in kept)
    whole = held.parse(raw, [])
    assert [p.get_payload() for p in cut.walk() if not p.is_multipart()] == \
        [p.get_payload() for p in whole.walk() if not p.is_multipart()]
    assert all(p.held is None for p in kept)


def test_a_body_with_a_line_that_could_be_a_delimiter_is_not_held() -> None:
    """Only base64 lines, or lines none of which starts with "--": no delimiter can hide in the body."""
    raw = CASES["a line starting with -- in a big text body"]
    assert held._to_hold(raw, check_shape(raw, Limits())) == []


def test_many_small_bodies_are_held_once_they_add_up() -> None:
    """A few small bodies cost the parser less than the cut; thousands cost it seven times their size."""
    few = _mail([TEXT] + [(ATTACHED, B64[:8000])] * 3)
    assert held._to_hold(few, check_shape(few, Limits())) == []
    many = CASES["many small base64 bodies"]
    assert len(held._to_hold(many, check_shape(many, Limits()))) == 400


def test_a_well_formed_big_attachment_is_kept_out_of_the_parser() -> None:
    """The plain case takes the cut: the part decodes from the raw mail."""
    raw = CASES["plain base64"]
    msg = held.parse(raw, check_shape(raw, Limits()))
    attached = [p for p in msg.walk() if isinstance(p, held.MailPart) and p.held is not None]
    assert len(attached) == 1
    assert attached[0].get_payload(decode=True) == DATA


def test_a_body_split_by_a_delimiter_of_another_case_is_parsed_whole() -> None:
    """When the parser would not end the body where the scan did, nothing is held."""
    raw = CASES["a delimiter of another case"]
    msg = held.parse(raw, check_shape(raw, Limits()))
    assert not [p for p in msg.walk() if getattr(p, "held", None) is not None]


def test_a_header_read_again_after_a_change_gives_the_new_value() -> None:
    """Header values are parsed once per part, but never outlive a change to the headers."""
    msg = held.parse(CASES["plain base64"], [])
    part = msg.get_payload()[1]
    assert part.get_content_type() == "application/octet-stream"
    part.replace_header("Content-Type", "image/png")
    assert part.get_content_type() == "image/png"
    del part["Content-Type"]
    assert part["Content-Type"] is None and part.get_content_type() == "text/plain"
    part["Content-Type"] = "text/html"
    assert part.get_content_type() == "text/html"


@pytest.mark.parametrize("case", ["plain base64", "padding missing", "a character outside base64"])
def test_a_held_attachment_is_published_with_the_bytes_the_stdlib_decodes(case: str, tmp_path: Path) -> None:
    """Size, hash, stored bytes and defects of the attachment are those of a whole parse."""
    raw = CASES[case]
    expected = [p for p in held.parse(raw, []).walk() if p.get_filename() == "a.bin"][0]
    data = expected.get_payload(decode=True)
    store = FilesystemBlobStore(tmp_path)
    got = normalize(raw, FETCHED, store, TOKENS, Limits())
    bare = normalize(raw, FETCHED, None, TOKENS, Limits())
    (attachment,) = got.attachments
    assert (attachment.size, attachment.sha256) == (len(data), hashlib.sha256(data).hexdigest())
    assert attachment.blob is not None and store.get(attachment.blob.key) == data
    assert (bare.attachments[0].size, bare.attachments[0].sha256) == (attachment.size, attachment.sha256)
    assert got.defects == bare.defects
    assert [d for d in got.defects if "Base64" in d] == [f"message.2: {type(d).__name__}" for d in expected.defects]


def _short_bodies() -> list[bytes]:
    """Every text of up to six characters from A, B, / and "=", line breaks strewn in."""
    rng = random.Random(3)
    found = []
    for n in range(7):
        for chars in itertools.product(b"AB/=", repeat=n):
            body = bytearray()
            for ch in chars:
                if rng.random() < 0.3:
                    body += rng.choice([b"\r\n", b"\n", b"\r"])
                body.append(ch)
            found.append(bytes(body))
    return found


def test_every_short_body_decodes_held_as_the_stdlib_decodes_it() -> None:
    """Bytes and defects match, strict or lenient, padded or not, read in chunks of any size."""
    for body in _short_bodies():
        raw = b"--" + body + b"\r\n--b--\r\n"
        part = held.MailPart(policy=policy.default)
        part["Content-Transfer-Encoding"] = "base64"
        part.set_payload("PostroomHeld")
        part.held = (raw, 2, 2 + len(body))
        stdlib = Message(policy=policy.default)
        stdlib["Content-Transfer-Encoding"] = "base64"
        stdlib.set_payload(body.decode("ascii"))
        expected = stdlib.get_payload(decode=True)
        strict = held._strict(raw, 2, 2 + len(body))
        assert part.get_payload(decode=True) == expected, body
        assert [type(d) for d in part.defects] == [type(d) for d in stdlib.defects], body
        if strict is not None:
            for size in (1, 2, 3, 5):
                assert b"".join(held._decoded(raw, 2, strict[1], 2 + len(body), size)) == expected, (body, size)


def test_only_base64_characters_and_line_breaks_are_held() -> None:
    """The check reads the body in chunks and finds one stray character anywhere in it."""
    body = B64[:5000]
    for size in (1, 7, 4096, 1 << 20):
        assert held._only_base64_lines(b"x" + body + b"x", 1, 1 + len(body), size)
        for at in (0, 1, 2500, 4999):
            for stray in (b"!", b" ", b"-", b"\x00", b"\xff"):
                bad = body[:at] + stray + body[at + 1:]
                assert not held._only_base64_lines(bad, 0, len(bad), size), (at, stray, size)


def test_a_part_finds_its_headers_as_the_stdlib_does_before_and_after_a_change() -> None:
    """Raw values by name and ``in`` agree with ``raw_items()``, case aside, once a header is added."""
    raw = b"From: a@example.com\r\nX-Tag: one\r\nx-tag: two\r\nSubject: s\r\n\r\nbody"
    part = held.parse(raw, [])
    assert isinstance(part, held.MailPart)
    assert part.raw_values("X-TAG") == ["one", "two"] and part.raw_values("Cc") == []
    assert "x-tag" in part and "Cc" not in part
    part["Cc"] = "b@example.com"
    assert "cc" in part and [str(v) for v in part.raw_values("CC")] == ["b@example.com"]
    assert part.get("cc") == "b@example.com"


def test_a_part_sees_a_replaced_or_deleted_header_through_the_public_api() -> None:
    part = held.parse(b"Subject: one\r\nX-Tag: a\r\n\r\nbody", [])
    assert isinstance(part, held.MailPart) and part.get("subject") == "one"
    part.replace_header("Subject", "two")
    assert part.get("subject") == "two" and [str(v) for v in part.raw_values("subject")] == ["two"]
    del part["X-Tag"]
    assert "X-Tag" not in part and part.get("x-tag") is None


def test_the_parser_reads_no_private_attribute_of_the_stdlib_messages() -> None:
    """Headers come from ``raw_items()`` and the policy: a new Python cannot silently change them."""
    import re
    from pathlib import Path

    sources = Path(held.__file__).parent.glob("*.py")
    private = re.compile(r"\._(headers|payload|charset|default_type|unixfrom|policy)\b|(from|import) email\._")
    found = [f"{p.name}: {m.group(0)}" for p in sources for m in private.finditer(p.read_text())]
    assert found == []


# What EmailMessage offers besides the methods that change headers (HEADER_WRITERS): each of these only
# reads them, or changes them by calling one of the writers. A method not in either list is a Python
# whose EmailMessage we have not checked: review it (does it write the headers itself?), then add it.
READERS = {
    "_add_multipart", "_find_body", "_get_params_preserve", "_make_multipart", "add_alternative",
    "add_attachment", "add_related", "as_bytes", "as_string", "attach", "del_param", "get", "get_all", "get_body",
    "get_boundary", "get_charset", "get_charsets", "get_content", "get_content_charset", "get_content_disposition",
    "get_content_maintype", "get_content_subtype", "get_content_type", "get_default_type", "get_filename",
    "get_param", "get_params", "get_payload", "get_unixfrom", "is_attachment", "is_multipart", "items",
    "iter_attachments", "iter_parts", "keys", "raw_items", "set_charset", "set_content", "set_default_type",
    "set_param", "set_payload", "set_type", "set_unixfrom", "values", "walk",
}


def test_every_method_of_the_installed_email_message_is_known_to_read_or_write_headers() -> None:
    from email.message import EmailMessage

    methods = {n for n in dir(EmailMessage) if callable(getattr(EmailMessage, n))
               and (not n.startswith("__") or n in ("__setitem__", "__delitem__"))}
    assert methods - READERS - set(held.HEADER_WRITERS) == set(), "a method this Python added: review it"
    assert set(held.HEADER_WRITERS) <= methods and READERS <= methods


@pytest.mark.parametrize(("change", "subject", "ctype"), [
    (lambda p: (p.__delitem__("Subject"), p.__setitem__("Subject", "new")), "new", "text/plain"),
    (lambda p: p.__delitem__("Subject"), None, "text/plain"),
    (lambda p: p.replace_header("Subject", "two"), "two", "text/plain"),
    (lambda p: p.add_header("X-New", "v"), "one", "text/plain"),
    (lambda p: p.set_raw("X-New", "v"), "one", "text/plain"),
    (lambda p: p.set_type("text/html"), "one", "text/html"),
    (lambda p: (p.set_type("multipart/mixed"), p.set_boundary("zz")), "one", "multipart/mixed"),
    (lambda p: p.set_param("charset", "utf-8"), "one", "text/plain"),
    (lambda p: p.clear(), None, "text/plain"),
    (lambda p: p.clear_content(), "one", "text/plain"),
    (lambda p: p.make_mixed(), "one", "multipart/mixed"),
])
def test_what_a_part_read_follows_every_change_of_its_headers(change, subject, ctype) -> None:  # type: ignore[no-untyped-def]
    part = held.parse(b"Subject: one\r\nContent-Type: text/plain\r\n\r\nbody", [])
    assert isinstance(part, held.MailPart)
    assert part.get("subject") == "one" and part.get_content_type() == "text/plain" and "subject" in part
    change(part)
    fresh = [str(v) for k, v in part.raw_items() if k.lower() == "subject"]
    assert part.get("subject") == subject and (fresh[0] if fresh else None) == subject
    assert [str(v) for v in part.raw_values("subject")] == fresh and ("subject" in part) == bool(fresh)
    assert part.get_content_type() == ctype
