"""The per-recipient fields of a delivery status notification (RFC 3464), read from real reports
and from the shapes servers get wrong."""

from __future__ import annotations

from tests.support.corpus import CORPUS
from tests.unit.parser.conftest import parse
from services.parser.reports import MAX_REPORTS

REPORTS = CORPUS / "mikel-mail" / "multipart_report_emails"


def _report(blocks: str, ctype: str = "message/delivery-status", returned: str = "", extra: str = "") -> str:
    return ("From: MAILER-DAEMON@mx.example\r\nSubject: Undelivered Mail Returned to Sender\r\nMIME-Version: 1.0\r\n"
            'Content-Type: multipart/report; report-type=delivery-status; boundary="b"\r\n\r\n'
            "--b\r\nContent-Type: text/plain\r\n\r\nSorry.\r\n"
            f"--b\r\nContent-Type: {ctype}\r\n{extra}\r\nReporting-MTA: dns; mx.example\r\n\r\n{blocks}\r\n"
            f"{returned}--b--\r\n")


def test_a_postfix_report_gives_every_recipient_with_its_action_and_status() -> None:
    """Five failed Gmail addresses, each with 5.1.1 and its diagnostic on one line."""
    mail = parse((REPORTS / "multi_address_bounce1.eml").read_bytes())
    assert [r.final_recipient for r in mail.delivery_reports] == [
        "bbbbvhvbbvkjbhfbvbvjhb@gmail.com", "bscdbcjhasbcjhbdscbhbsdhcbj@gmail.com", "egyfefsdvsfvvhjsd@gmail.com",
        "kfhejkfbsjkjsbhds@gmail.com", "qfvhgsvhgsduiohncdhcvhsdfvsfygusd@gmail.com"]
    assert {(r.action, r.status) for r in mail.delivery_reports} == {("failed", "5.1.1")}
    first = mail.delivery_reports[0]
    assert first.original_recipient == first.final_recipient
    assert first.diagnostic.startswith("smtp; 550-5.1.1 The email account") and "\n" not in first.diagnostic


def test_a_recipient_in_angle_brackets_and_a_report_part_of_free_text_are_read_as_meant() -> None:
    """"RFC822; <u@ci.com>" is u@ci.com; a delivery-status part holding prose gives no recipient."""
    mail = parse((REPORTS / "multipart_report_multiple_status.eml").read_bytes())
    assert [(r.final_recipient, r.action, r.status) for r in mail.delivery_reports] == [("u@ci.com", "failed", "5.3.0")]


def test_a_report_without_original_recipient_leaves_it_unset() -> None:
    [report] = parse((REPORTS / "report_530.eml").read_bytes()).delivery_reports
    assert (report.final_recipient, report.original_recipient, report.status) == ("edwin@zzzzzzz.com", None, "5.3.0")
    assert report.diagnostic == "SMTP; 553 5.3.0 <edwin@zzzzzzz.com>... Unknown E-Mail Address"


def test_a_delay_warning_says_delayed_with_its_temporary_status() -> None:
    mail = parse(_report("Final-Recipient: rfc822; ann@example.com\r\nAction: Delayed\r\n"
                         "Status: 4.4.1 (connection timed out)\r\nWill-Retry-Until: Fri, 4 Dec 2026 09:00:00 +0000\r\n"))
    [report] = mail.delivery_reports
    assert (report.final_recipient, report.action, report.status) == ("ann@example.com", "delayed", "4.4.1")


def test_a_status_that_is_no_status_code_is_left_empty() -> None:
    """"550" is an SMTP reply, not an RFC 3463 code; the itemwriter then has no proof of permanence."""
    mail = parse(_report("Final-Recipient: rfc822;a@example.com\r\nAction: failed\r\nStatus: 550\r\n\r\n"
                         "Final-Recipient: rfc822;b@example.com\r\nAction: failed\r\nStatus: 5.1.10\r\n\r\n"
                         "Final-Recipient: b2@example.com\r\nAction: failed\r\nStatus: 5.1.1234\r\n"))
    assert [(r.final_recipient, r.status) for r in mail.delivery_reports] == [
        ("a@example.com", ""), ("b@example.com", "5.1.10"), ("b2@example.com", "")]


def test_an_unreadable_recipient_is_a_defect_and_not_a_report() -> None:
    mail = parse(_report("Final-Recipient: rfc822; not an address\r\nAction: failed\r\nStatus: 5.1.1\r\n\r\n"
                         "Final-Recipient: rfc822; ok@example.com\r\nAction: failed\r\nStatus: 5.1.1\r\n"))
    assert [r.final_recipient for r in mail.delivery_reports] == ["ok@example.com"]
    assert any("unreadable Final-Recipient 'rfc822; not an address'" in d for d in mail.defects)


def test_a_global_report_in_utf8_is_read_too() -> None:
    """RFC 6533's message/global-delivery-status, which the stdlib leaves as text, base64 here."""
    import base64

    body = "Final-Recipient: utf-8; jörg@bücher.example\r\nAction: failed\r\nStatus: 5.1.1\r\n"
    mail = parse(_report("", "message/global-delivery-status", extra="Content-Transfer-Encoding: base64\r\n").replace(
        "\r\nReporting-MTA: dns; mx.example\r\n\r\n\r\n",
        "\r\n" + base64.b64encode(("Reporting-MTA: dns; mx.example\r\n\r\n" + body).encode()).decode() + "\r\n"))
    assert [(r.final_recipient, r.status) for r in mail.delivery_reports] == [("jörg@bücher.example", "5.1.1")]


def test_a_report_inside_the_returned_mail_is_not_ours() -> None:
    """The bounce of a bounce: the returned mail's own report is about some earlier mail."""
    inner = _report("Final-Recipient: rfc822; old@example.com\r\nAction: failed\r\nStatus: 5.1.1\r\n")
    inner = inner.replace('boundary="b"', 'boundary="c"').replace("--b", "--c")
    mail = parse(_report("Final-Recipient: rfc822; new@example.com\r\nAction: failed\r\nStatus: 5.2.2\r\n",
                         returned="--b\r\nContent-Type: message/rfc822\r\n\r\n" + inner))
    assert [r.final_recipient for r in mail.delivery_reports] == ["new@example.com"]


def test_a_report_of_very_many_recipients_is_cut_and_says_so() -> None:
    blocks = "\r\n".join(f"Final-Recipient: rfc822; u{i}@example.com\r\nAction: failed\r\nStatus: 5.1.1\r\n"
                         for i in range(MAX_REPORTS + 5))
    mail = parse(_report(blocks))
    assert len(mail.delivery_reports) == MAX_REPORTS
    assert f"delivery report: {MAX_REPORTS + 5} recipients, the first {MAX_REPORTS} kept" in mail.defects


def test_only_a_bounce_carries_delivery_reports() -> None:
    """A person's mail quoting report fields in its text has none."""
    mail = parse("From: Ann <ann@example.com>\r\nSubject: s\r\n\r\nFinal-Recipient: rfc822; x@example.com\r\n"
                 "Action: failed\r\nStatus: 5.1.1\r\n")
    assert mail.classification.kind == "human" and mail.delivery_reports == []


def test_a_global_report_in_8bit_utf8_is_read_too() -> None:
    """Postfix with SMTPUTF8 sends the global report unencoded."""
    mail = parse(_report("Final-Recipient: utf-8; jörg@bücher.example\r\nAction: failed\r\nStatus: 5.1.1\r\n",
                         "message/global-delivery-status").encode())
    assert [(r.final_recipient, r.status) for r in mail.delivery_reports] == [("jörg@bücher.example", "5.1.1")]


def test_a_global_report_that_is_not_utf8_is_a_defect() -> None:
    raw = _report("Final-Recipient: utf-8; j\xf6rg@example\r\nAction: failed\r\nStatus: 5.1.1\r\n",
                  "message/global-delivery-status").encode("latin-1")
    mail = parse(raw)
    assert mail.delivery_reports == [] and any("delivery report: unreadable" in d for d in mail.defects)
