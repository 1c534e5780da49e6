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
