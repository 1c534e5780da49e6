"""How far the receiving server vouched for the sender (RFC 8601 Authentication-Results)."""

from __future__ import annotations

import pytest

from shared.items.authentication import assess, parse, trust_summary

TRUSTED = ["mx.ours.example"]


def test_a_dmarc_failure_reported_by_a_trusted_server_leaves_the_sender_unverified() -> None:
    auth = assess(["mx.ours.example; spf=pass smtp.mailfrom=x; dkim=pass; dmarc=fail header.from=acme.example"],
                  TRUSTED)
    assert auth.verdict == "fail" and not auth.verified
    assert "dmarc=fail" in auth.reason


def test_spf_and_dkim_both_failing_without_a_dmarc_result_leave_the_sender_unverified() -> None:
    auth = assess(["mx.ours.example 1; spf=softfail (not permitted) smtp.mailfrom=a@acme.example; dkim=none"],
                  TRUSTED)
    assert auth.verdict == "fail"


def test_one_passing_mechanism_is_enough_when_dmarc_gave_no_result() -> None:
    assert assess(["mx.ours.example; spf=fail; dkim=pass header.d=acme.example"], TRUSTED).verdict == "pass"


def test_a_dmarc_pass_outweighs_a_failing_spf() -> None:
    assert assess(["mx.ours.example; spf=fail; dkim=fail; dmarc=pass"], TRUSTED).verdict == "pass"


def test_results_from_a_host_the_admin_does_not_trust_are_ignored() -> None:
    forged = "mx.ours.example.attacker.example; dmarc=fail"
    assert assess([forged, "relay.elsewhere.example; spf=fail; dkim=fail"], TRUSTED).verdict == "unchecked"


def test_a_forged_header_below_the_trusted_servers_own_is_ignored() -> None:
    headers = ["mx.ours.example; dmarc=fail header.from=acme.example", "mx.ours.example; dmarc=pass"]
    assert assess(headers, TRUSTED).verdict == "fail"


def test_a_forged_pass_from_another_host_does_not_outvote_the_trusted_failure() -> None:
    headers = ["evil.example; dmarc=pass", "mx.ours.example; dmarc=fail"]
    assert assess(headers, TRUSTED).verdict == "fail"


def test_an_account_that_trusts_no_server_leaves_every_sender_unchecked() -> None:
    assert assess(["mx.ours.example; dmarc=fail"], []).verdict == "unchecked"


def test_a_trusted_header_with_no_results_checks_nothing() -> None:
    assert assess(["mx.ours.example; none"], TRUSTED).verdict == "unchecked"


def test_comments_and_spacing_around_results_are_read_past() -> None:
    parsed = parse('MX.Ours.Example (postfix) ; dmarc (policy) = fail (p=reject) header.from="acme.example";'
                   " dkim/1=pass (good (nested) sig)")
    assert parsed is not None
    assert parsed.authserv_id == "mx.ours.example"
    assert parsed.results == {"dmarc": ["fail"], "dkim": ["pass"]}


@pytest.mark.parametrize("headers, trusted", [
    ([], []),
    (["mx.ours.example; spf=pass smtp.mailfrom=customer.example"], []),
    (["spf=pass smtp.mailfrom=customer.example; dkim=pass header.d=customer.example"], ["mx.ours.example"]),
    (["other.example; dmarc=pass header.from=customer.example"], ["mx.ours.example"]),
    (["mx.ours.example; spf=none smtp.mailfrom=customer.example"], ["mx.ours.example"]),
])
def test_unchecked_is_never_verified(headers: list[str], trusted: list[str]) -> None:
    """No header, no authserv-id, an untrusted id, or no passing result: the sender is not verified."""
    result = assess(headers, trusted)
    assert result.verdict == "unchecked" and not result.verified and not result.failed


@pytest.mark.parametrize("kind, verdict", [("graph", "pass"), ("gmail", "pass"), ("imap", "unchecked"),
                                           ("pop3", "unchecked")])
def test_provider_accounts_believe_the_providers_own_topmost_header(kind: str, verdict: str) -> None:
    """Graph and Gmail mail comes straight from the provider, whose header may have no authserv-id."""
    headers = ["spf=pass (sender IP is 192.0.2.1) smtp.mailfrom=customer.example; dkim=pass; dmarc=pass",
               "mx.forged.example; dmarc=fail"]
    assert assess(headers, [], kind).verdict == verdict
    assert ("provider" in trust_summary(kind, [])) == (verdict == "pass")


def test_an_account_that_trusts_nothing_says_so() -> None:
    assert trust_summary("imap", []).startswith("nothing")
    assert trust_summary("imap", ["MX.ours.example"]) == "Authentication-Results from mx.ours.example"
