"""What a delivery report says about each address: only Action failed with a 5.x.x status is a
permanent failure, and only an address our mail went to is flagged."""

from __future__ import annotations

import pytest

from services.itemwriter.dsn import read, verdict
from shared.contracts import DeliveryReport


def _r(action: str, status: str, to: str = "ann@example.com") -> DeliveryReport:
    return DeliveryReport(final_recipient=to, action=action, status=status)


@pytest.mark.parametrize(("action", "status", "expected"), [
    ("failed", "5.1.1", "permanent"), ("failed", "5.7.1", "permanent"), ("failed", "5.4.7", "permanent"),
    ("failed", "4.4.7", "gave-up"), ("failed", "", "gave-up"), ("failed", "2.0.0", "gave-up"),
    ("delayed", "4.4.1", "delayed"), ("delayed", "5.7.1", "delayed"), ("delayed", "", "delayed"),
    ("delivered", "2.0.0", "delivered"), ("relayed", "2.0.0", "delivered"), ("expanded", "2.0.0", "delivered"),
    ("", "5.1.1", "unknown"), ("bounced", "5.1.1", "unknown"),
])
def test_each_action_and_status_has_one_verdict(action: str, status: str, expected: str) -> None:
    assert verdict(_r(action, status)) == expected


def test_only_the_permanently_failed_addresses_are_flagged_with_the_reports_words() -> None:
    reading = read([_r("failed", "5.1.1", "Ann@Example.com"), _r("delayed", "4.4.1", "bob@example.com"),
                    _r("failed", "4.4.7", "cy@example.com")], {"ann@example.com", "bob@example.com", "cy@example.com"})
    assert reading.signal == "delivery-failure" and list(reading.flags) == ["ann@example.com"]
    assert reading.summary.startswith("1 flagged; ann@example.com failed (5.1.1), bob@example.com delayed (4.4.1)")


def test_an_address_our_mail_did_not_go_to_is_not_flagged() -> None:
    """A forwarding target, or a forged report: only the recipients of our mail, when known, are flagged."""
    reading = read([_r("failed", "5.1.1", "ann@example.com"), _r("failed", "5.1.1", "stranger@example.org")],
                   {"ann@example.com", "bob@example.com"})
    assert list(reading.flags) == ["ann@example.com"]
    assert [line["flagged"] for line in reading.lines] == ["yes", "no: our mail did not go to this address"]


@pytest.mark.parametrize(("reports", "signal"), [
    ([_r("delayed", "4.4.1"), _r("delayed", "5.0.0", "b@example.com")], "delivery-delayed"),
    ([_r("delivered", "2.0.0")], "delivery-report"),
    ([_r("delayed", "4.4.1"), _r("failed", "4.4.7", "b@example.com")], "delivery-failure"),
    ([], "delivery-failure"),
])
def test_a_report_that_fails_nobody_permanently_flags_nobody(reports: list[DeliveryReport], signal: str) -> None:
    reading = read(reports, None)
    assert (reading.signal, reading.flags) == (signal, {}) and reading.summary.startswith("nobody flagged")


def test_a_report_about_a_mail_whose_recipients_are_unknown_flags_nobody() -> None:
    """Found by its token or in the history only: nothing confirms we ever wrote to the address."""
    reading = read([_r("failed", "5.1.1")], None)
    assert reading.flags == {} and reading.lines[0]["flagged"] == "no: whom our mail went to is unknown"


def test_a_report_of_many_addresses_is_summed_up_in_one_short_line() -> None:
    addresses = [f"u{i}@example.com" for i in range(8)]
    reading = read([_r("failed", "5.1.1", a) for a in addresses], set(addresses))
    assert reading.summary.endswith("and 5 more") and len(reading.flags) == 8
