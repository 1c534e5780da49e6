"""The fetcher's own connections name a TLS-mode mismatch, as `accounts test` does: the account's
health says which setting to change, not a bare time-out or "wrong version number"."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import select

from shared.db.models import AccountHealth
from tests.support.fetching import apply_account, fetcher_settings, imap_account, pop3_account, running_fetcher
from tests.support.waiting import wait_for


def _health(sessions: Any) -> AccountHealth | None:
    with sessions() as session:
        return session.scalar(select(AccountHealth))


def _failing(sessions: Any, secret_box: Any, memory_broker: Any, database_url: str, tmp_path: Any,
             secret_key: str, spec: dict[str, Any]) -> AccountHealth:
    apply_account(sessions, secret_box, **spec)
    with running_fetcher(fetcher_settings(database_url, tmp_path, secret_key), memory_broker):
        wait_for(lambda: (h := _health(sessions)) is not None and h.last_error is not None, timeout=30,
                 what="the failed connection recorded")
    health = _health(sessions)
    assert health is not None and memory_broker.published == []
    return health


@pytest.mark.parametrize("kind,tls", [("imap", "none"), ("imap", "starttls"), ("pop3", "none")])
def test_a_clear_text_account_on_an_implicit_tls_port_is_told_to_set_tls_implicit(
        kind, tls, dovecot_tls, sessions, secret_box, memory_broker, database_url, tmp_path, secret_key):
    user = dovecot_tls.add_user()
    spec = imap_account(user) if kind == "imap" else pop3_account(user)
    port = dovecot_tls.imaps_port if kind == "imap" else dovecot_tls.pop3s_port
    # A short timeout: the greeting that never comes in clear is waited for this long.
    health = _failing(sessions, secret_box, memory_broker, database_url, tmp_path, secret_key,
                      spec | {"port": port, "tls": tls, "timeout": 2, "ca_file": str(dovecot_tls.tls.cert)})
    assert health.last_error_kind == "tls", health.last_error
    assert "this port expects implicit TLS" in health.last_error and "set tls: implicit" in health.last_error
    assert user.password not in health.last_error


@pytest.mark.parametrize("kind", ["imap", "pop3"])
def test_an_implicit_tls_account_on_a_plain_port_is_told_to_use_starttls(
        kind, dovecot_tls, sessions, secret_box, memory_broker, database_url, tmp_path, secret_key):
    user = dovecot_tls.add_user()
    spec = imap_account(user) if kind == "imap" else pop3_account(user)
    health = _failing(sessions, secret_box, memory_broker, database_url, tmp_path, secret_key,
                      spec | {"tls": "implicit", "ca_file": str(dovecot_tls.tls.cert)})
    assert health.last_error_kind == "tls", health.last_error
    assert "not implicit TLS" in health.last_error and "set tls: starttls" in health.last_error


def test_a_certificate_from_an_unknown_ca_is_told_to_set_ca_file(
        dovecot_tls, sessions, secret_box, memory_broker, database_url, tmp_path, secret_key, monkeypatch):
    monkeypatch.delenv("SSL_CERT_FILE", raising=False)  # the machine's own bundle does not know the test CA
    user = dovecot_tls.add_user()
    health = _failing(sessions, secret_box, memory_broker, database_url, tmp_path, secret_key,
                      imap_account(user) | {"port": dovecot_tls.imaps_port, "tls": "implicit"})
    assert health.last_error_kind == "tls", health.last_error
    assert "set ca_file:" in health.last_error
