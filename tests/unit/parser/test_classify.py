"""Person or machine (RFC 3834 and common practice), and which mail a bounce reports on."""

from __future__ import annotations

import pytest

from tests.support.corpus import CORPUS
from tests.unit.parser.conftest import TOKENS, parse

BASE = "From: Ann <ann@example.com>\r\nTo: desk@example.com\r\nSubject: s\r\n"


@pytest.mark.parametrize("header, kind", [
    ("", "human"),
    ("Auto-Submitted: no\r\n", "human"),
    ("Auto-Submitted: auto-replied\r\n", "auto-reply"),
    ("Auto-Submitted: Auto-Generated\r\n", "auto-reply"),
    ("X-Autoreply: yes\r\n", "auto-reply"),
    ("X-Auto-Response-Suppress: All\r\n", "auto-reply"),
    ("Precedence: bulk\r\n", "bulk"),
    ("Precedence: junk\r\n", "bulk"),
    ("Precedence: list\r\n", "list"),
    ("List-Id: <dev.lists.example.com>\r\n", "list"),
    ("List-Unsubscribe: <mailto:leave@example.com>\r\n", "list"),
    ("Return-Path: <>\r\n", "auto-reply"),
    ("X-Postroom-Loop: desk@example.com\r\n", "human"),  # not signed by us: not believed
    ("X-Postroom-Loop: postroom; default; sig=0123456789abcdef\r\nAuto-Submitted: no\r\n", "human"),
])
def test_headers_decide_the_kind_of_mail(header: str, kind: str) -> None:
    """Each header of RFC 3834 and practice gives its kind, with a reason when automatic."""
    got = parse(BASE + header + "\r\nbody\r\n").classification
    assert got.kind == kind
    assert (got.reason != "") == (kind != "human")


@pytest.mark.parametrize("sender, kind", [
    ("MAILER-DAEMON@mx.example.com", "bounce"),
    ("postmaster@example.com", "bounce"),
    ("no-reply@shop.example", "bulk"),
])
def test_mail_system_senders_are_not_people(sender: str, kind: str) -> None:
    """mailer-daemon and postmaster are bounces; no-reply senders are bulk."""
    mail = parse(f"From: {sender}\r\nSubject: s\r\n\r\nbody\r\n")
    assert mail.classification.kind == kind


def test_a_null_return_path_with_a_failure_subject_is_a_bounce() -> None:
    """Return-Path: <> and an "Undelivered Mail" subject: a bounce, not an auto-reply."""
    mail = parse("From: System <system@mx.example>\r\nReturn-Path: <>\r\nSubject: Undelivered Mail Returned to Sender\r\n\r\nx")
    assert mail.classification.kind == "bounce"


@pytest.mark.parametrize("name, original", [
    ("multi_address_bounce1.eml", "<118707422.15521266992174819.JavaMail.root@lvmail01>"),
    ("report_530.eml", "<200712232303.lBNN3jDq002941@mail12.rrrr.com.au>"),
    ("multipart_report_multiple_status.eml", "<4c2a146147ac8_61ff157c4ec1652df@s.h.c.mail>"),
])
def test_a_delivery_status_notification_names_the_message_it_reports_on(name: str, original: str) -> None:
    """RFC 3464: the returned message's Message-ID is published as bounce_of."""
    mail = parse((CORPUS / "mikel-mail" / "multipart_report_emails" / name).read_bytes())
    assert mail.classification.kind == "bounce" and mail.bounce_of == original


def test_a_bounce_without_a_report_finds_the_message_id_in_the_returned_headers() -> None:
    """Old MTAs quote the original headers in plain text."""
    mail = parse("From: MAILER-DAEMON@mx.example\r\nSubject: failure notice\r\n\r\n"
                 "Sorry.\r\n--- Below this line is a copy of the message.\r\n\r\nMessage-ID: <abc@desk.example>\r\n")
    assert mail.bounce_of == "<abc@desk.example>"


def test_a_person_is_never_given_a_bounce_of() -> None:
    """bounce_of is only for bounces."""
    mail = parse(BASE + "\r\nMessage-ID: <x@y>\r\n")
    assert mail.classification.kind == "human" and mail.bounce_of is None


@pytest.mark.parametrize("extra", ["", "Auto-Submitted: no\r\n"])
def test_our_own_signed_loop_header_marks_the_mail_as_our_own_coming_back(extra: str) -> None:
    """The loop header the notifier signs over the mail's Message-ID is believed; the same value on
    another Message-ID is not."""
    mid = "<postroom.incident.7.b0123456789abcdef.x1@ours.example>"
    value = TOKENS.loop_value("postroom; default", mid)
    ours = parse(BASE + f"Message-ID: {mid}\r\nX-Postroom-Loop: {value}\r\n" + extra + "\r\nbody\r\n")
    assert ours.classification.kind == "own-loop"
    copied = parse(BASE + "Message-ID: <other@elsewhere.example>\r\n"
                   f"X-Postroom-Loop: {value}\r\n" + extra + "\r\nbody\r\n")
    assert copied.classification.kind == "human"
    assert any("X-Postroom-Loop not signed by us" in d for d in copied.defects)


@pytest.mark.parametrize("field", [
    "List-Id: Developers <dev.lists.example.com>",
    "List-Help: <mailto:dev-request@lists.example.com?subject=help>",
    "List-Archive: <https://lists.example.com/archives/dev/>",
    "List-Subscribe: <mailto:dev-join@lists.example.com>",
    "List-Unsubscribe: <https://lists.example.com/leave?u=1>",
    "List-Unsubscribe-Post: List-Unsubscribe=One-Click",
    "List-Post: <mailto:dev@lists.example.com>",
    "List-Post: NO",
    "List-Owner: <mailto:dev-owner@lists.example.com>",
    "list-archive: <https://lists.example.com/archives/dev/>",
    "LIST-HELP: <https://lists.example.com/help>",
    "List-Software: Mailman 3.3",
])
def test_any_list_field_alone_marks_the_mail_as_list_mail(field: str) -> None:
    """RFC 2369/2919: every List-* field, on its own and in any case, says a list server sent the mail."""
    got = parse(BASE + field + "\r\n\r\nbody\r\n").classification
    assert got.kind == "list"
    assert field.split(":")[0].title() in got.reason


def test_a_list_mail_names_the_list_fields_it_carries() -> None:
    """The reason says which fields decided, as read by a person in the outbox."""
    got = parse(BASE + "List-Help: <mailto:h@l.example>\r\nList-Archive: <https://l.example/a>\r\n\r\nx").classification
    assert got.kind == "list" and got.reason.startswith("List-Help, List-Archive")


@pytest.mark.parametrize("field", [
    "X-Loop: support@helpdesk.example",
    "X-Loop: rt.example.com",
    "X-Loop: ",
    "x-loop: procmail-vacation",
    "X-Loop: debian-devel@lists.debian.org\r\nX-Loop: second@relay.example",
])
def test_a_mail_that_went_through_an_automaton_with_x_loop_is_automatic(field: str) -> None:
    """X-Loop (procmail, ticket systems, list servers) in any case and with any value is automatic."""
    got = parse(BASE + field + "\r\n\r\nbody\r\n").classification
    assert got.kind == "auto-reply" and got.reason.startswith("X-Loop")


@pytest.mark.parametrize("field", [
    "Listing-Id: 4711",
    "X-List: not a list field",
    "X-Mailing-List-Name: nothing",
    "X-Loops: 2",
    "X-Postroom-Loop-Count: 1",
])
def test_fields_that_only_look_like_list_or_loop_fields_leave_a_person_a_person(field: str) -> None:
    """Only List-* and X-Loop themselves count: a look-alike name must not silence a customer."""
    assert parse(BASE + field + "\r\n\r\nList-Id: in the body\r\nX-Loop: also\r\n").classification.kind == "human"


@pytest.mark.parametrize("name", ["multi_address_bounce1.eml", "report_530.eml"])
def test_a_delivery_report_stays_a_bounce_whatever_list_fields_it_carries(name: str) -> None:
    """A bounce is still recognised as one first: it is recorded on the item it reports on."""
    raw = (CORPUS / "mikel-mail" / "multipart_report_emails" / name).read_bytes()
    assert parse(b"List-Id: <x.lists.example>\r\nX-Loop: y\r\n" + raw).classification.kind == "bounce"


def test_list_mail_with_x_loop_is_list_mail() -> None:
    """Debian's lists set both: the list is what the mail is (the reason names its fields)."""
    got = parse(BASE + "X-Loop: debian-devel@lists.debian.org\r\nList-Id: <debian-devel.lists.debian.org>\r\n"
                "\r\nbody\r\n").classification
    assert got.kind == "list" and "List-Id" in got.reason
