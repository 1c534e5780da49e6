"""The parser hands on Authentication-Results as raw values, topmost first, for the itemwriter to judge."""

from __future__ import annotations

from datetime import UTC, datetime

from services.parser.handlers import normalize
from services.parser.limits import Limits
from shared.contracts import BlobRef, MailFetched
from shared.tokens import ItemTokens

RAW = (b"Authentication-Results: mx.ours.example;\r\n dmarc=fail header.from=acme.example\r\n"
       b"Authentication-Results: relay.example; spf=pass\r\n"
       b"From: a@acme.example\r\nSubject: hi\r\nMessage-ID: <x@acme.example>\r\n\r\nbody\r\n")


def test_every_authentication_results_header_is_passed_on_unfolded_in_order() -> None:
    fetched = MailFetched(account="a", source="stdin", source_id="s", raw=BlobRef(key="k", size=1, sha256="0"),
                          received_at=datetime(2026, 11, 26, tzinfo=UTC))
    parsed = normalize(RAW, fetched, None, ItemTokens("[#{number}]", "s"), Limits())
    assert parsed.authentication_results == ["mx.ours.example; dmarc=fail header.from=acme.example",
                                             "relay.example; spf=pass"]
