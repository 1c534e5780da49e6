"""The fetcher's pure rules: back-off, failure kinds, two-factor answers, UID sets, account specs."""

from __future__ import annotations

import random
import ssl

import pytest
from pydantic import ValidationError

from shared.accounts.specs import AccountSpec
from services.fetcher.backoff import Backoff
from shared.mailboxes.failures import TWO_FACTOR_HINT, classify, login_failed, looks_like_two_factor
from shared.mailboxes.imap import sequence_set


def test_backoff_doubles_per_failure_up_to_the_cap_with_jitter_in_the_upper_half():
    """Delay n lies in [c/2, c] with c = min(cap, base * 2^(n-1))."""
    backoff, rand = Backoff(base=5, cap=60, auth_base=300, auth_cap=3600), random.Random(7)
    for failures, ceiling in ((1, 5), (2, 10), (3, 20), (4, 40), (5, 60), (12, 60)):
        delays = [backoff.delay("network", failures, rand) for _ in range(50)]
        assert all(ceiling / 2 <= d <= ceiling for d in delays)
        assert len(set(delays)) > 1


def test_a_refused_login_backs_off_far_longer_than_a_network_error():
    """Retrying a wrong password quickly gets accounts locked: auth waits from minutes to hours."""
    backoff = Backoff()
    assert backoff.delay("auth", 1) >= 150 > backoff.delay("network", 1) * 10
    assert backoff.delay("auth", 20) <= 6 * 3600


@pytest.mark.parametrize("answer, host", [
    ("[ALERT] Application-specific password required: https://support.google.com/accounts/answer/185833 (Failure)",
     "imap.gmail.com"),
    ("[ALERT] Please log in via your web browser: https://support.google.com/mail/accounts/answer/78754 (Failure)",
     "imap.gmail.com"),
    ("[AUTHENTICATIONFAILED] Invalid credentials (Failure)", "imap.mail.yahoo.com"),
    ("AUTHENTICATIONFAILED Authentication failed.", "outlook.office365.com"),
    ("[CONTACTADMIN] [ALERT]_Application-specific_password_required", "mail.example.org"),
    ("-ERR [AUTH] Web login required", "pop.example.org"),
])
def test_typical_two_factor_refusals_are_recognised(answer, host):
    """Each becomes an auth error telling the operator to use an app password."""
    assert looks_like_two_factor(answer, host)
    error = login_failed(answer, host)
    assert error.kind == "auth" and str(error).startswith(TWO_FACTOR_HINT)


def test_a_plain_wrong_password_on_an_unknown_server_is_not_called_two_factor():
    """AUTHENTICATIONFAILED from a server we know nothing about is just a refused login."""
    error = login_failed("[AUTHENTICATIONFAILED] Authentication failed.", "mail.example.org")
    assert error.kind == "auth" and "app password" not in str(error)


@pytest.mark.parametrize("exc, kind", [
    (ssl.SSLCertVerificationError("self-signed certificate"), "tls"),
    (ConnectionResetError("reset"), "network"),
    (TimeoutError("timed out"), "network"),
    (Exception("[OVERQUOTA] Quota exceeded"), "quota"),
    (Exception("BAD Command unknown"), "protocol"),
])
def test_exceptions_are_classified_into_five_kinds(exc, kind):
    assert classify(exc).kind == kind


def test_sequence_sets_cover_a_range_without_the_excluded_uids():
    assert sequence_set(1, 10) == "1:10"
    assert sequence_set(1, 10, [3, 4, 10, 99]) == "1:2,5:9"
    assert sequence_set(5, 5) == "5"
    assert sequence_set(5, 6, [5, 6]) == ""


def test_an_imap_account_is_checked_when_applied():
    """Missing password, unknown TLS mode, or move without a target fail at apply time."""
    base = {"name": "a", "kind": "imap", "address": "a@example.org", "project": "P", "host": "h", "user": "u"}
    AccountSpec.model_validate(base | {"app_password": "x", "after_fetch": "delete"})
    for bad in ({}, {"password": "x", "tls": "ssl"}, {"password": "x", "after_fetch": "move"},
                {"password": "x", "folder": "INBOX", "surprise": 1}):
        with pytest.raises(ValidationError):
            AccountSpec.model_validate(base | bad)


def test_secret_keys_and_retry_delays_read_comma_separated_from_the_environment(monkeypatch):
    from shared.settings import CommonSettings

    monkeypatch.setenv("POSTROOM_SECRET_KEYS", "k1, k2")
    monkeypatch.setenv("POSTROOM_RETRY_DELAYS", "1,2.5")
    settings = CommonSettings()
    assert settings.secret_keys == ("k1", "k2") and settings.retry_delays == (1.0, 2.5)
