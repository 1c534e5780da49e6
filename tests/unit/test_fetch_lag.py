"""The arrival time the fetch lag is measured from: the topmost Received field's date."""

from __future__ import annotations

from datetime import UTC, datetime

from services.fetcher.gauges import arrived_at


def test_the_topmost_received_date_is_the_arrival_even_when_folded():
    """The first Received field (the last hop) counts, its date after the last semicolon, folding allowed."""
    raw = (b"Received: from mx.example.org\r\n\tby mail.example.com;\r\n Thu, 26 Nov 2026 10:05:00 +0100\r\n"
           b"Received: from a.example; Thu, 26 Nov 2026 08:00:00 +0000\r\nSubject: x\r\n\r\nbody\r\n")
    assert arrived_at(raw) == datetime(2026, 11, 26, 9, 5, tzinfo=UTC)


def test_a_mail_without_a_usable_received_field_has_no_arrival():
    """No Received, one without a date, one with an unknown zone (-0000), one only in the body: none."""
    assert arrived_at(b"Subject: x\r\n\r\nReceived: from b; Thu, 26 Nov 2026 10:00:00 +0000\r\n") is None
    assert arrived_at(b"Received: from a by b\r\nSubject: x\r\n\r\n") is None
    assert arrived_at(b"Received: from a; Thu, 26 Nov 2026 10:00:00 -0000\r\n\r\n") is None
    assert arrived_at(b"Received: from a; not a date\r\n\r\n") is None
