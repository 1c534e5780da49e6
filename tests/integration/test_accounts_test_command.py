"""``postroom accounts test NAME``: what is there, or exactly which step failed, against real servers;
and no command of ``postroom accounts`` ever prints a password."""

from __future__ import annotations

import logging
import time

import pytest

from tests.support.accountcli import AccountsCli
from tests.support.dovecot import sample_mail
from tests.support.fetching import apply_account, imap_account, pop3_account
from tests.support.servers import free_port
from tests.support.waiting import wait_for


@pytest.fixture
def cli(database_url: str, secret_key: str) -> AccountsCli:
    return AccountsCli(database_url, secret_key)


def test_reports_the_folders_and_the_message_count_of_an_imap_account(cli, mail_user, sessions, secret_box):
    mail_user.create_folder("Support")
    for n in range(3):
        mail_user.append(sample_mail(n))
    apply_account(sessions, secret_box, **imap_account(mail_user))
    result = cli("test", "support")
    assert result.exit_code == 0, result.output
    assert "connected and logged in" in result.output
    assert "folders: INBOX, Support" in result.output and "INBOX: 3 message(s)" in result.output
    assert mail_user.flags() and all(b"\\Seen" not in f for f in mail_user.flags().values())  # nothing touched


def test_before_the_first_sync_it_says_what_becomes_of_the_mail_there_and_after_it_not(
        cli, mail_user, sessions, secret_box, memory_broker, fetcher):
    """No existing_mail given: the mail counted is to be archived; once the fetcher has read the
    account, the first sync is history and the line is gone."""
    for n in range(2):
        mail_user.append(sample_mail(n))
    apply_account(sessions, secret_box, **imap_account(mail_user, existing_mail=None))
    before = cli("test", "support").output
    assert "INBOX: 2 message(s)" in before
    assert ("first sync (existing_mail: archive): the mail there now is stored as closed items; nobody is "
            "answered; it is left on the server as it is") in before
    with fetcher():
        wait_for(lambda: len(memory_broker.published) == 2, what="the first sync")
    after = cli("test", "support").output
    assert "INBOX: 2 message(s)" in after and "first sync" not in after


def test_reports_the_message_count_of_a_pop3_maildrop(cli, mail_user, sessions, secret_box):
    mail_user.append(sample_mail(1))
    apply_account(sessions, secret_box, **pop3_account(mail_user))
    result = cli("test", "support")
    assert result.exit_code == 0, result.output
    assert "maildrop: 1 message(s)" in result.output and len(mail_user.flags()) == 1


def test_an_unknown_host_is_a_dns_error(cli, mail_user, sessions, secret_box):
    apply_account(sessions, secret_box, **(imap_account(mail_user) | {"host": "no-such-host.invalid"}))
    result = cli("test", "support")
    assert result.exit_code == 1 and "DNS error" in result.output and "no-such-host.invalid" in result.output


def test_a_closed_port_is_a_tcp_error(cli, mail_user, sessions, secret_box):
    apply_account(sessions, secret_box, **(imap_account(mail_user) | {"port": free_port()}))
    result = cli("test", "support")
    assert result.exit_code == 1 and "TCP error" in result.output and "refused" in result.output.lower()


def test_a_self_signed_certificate_is_a_tls_error(cli, dovecot_tls, sessions, secret_box):
    user = dovecot_tls.add_user()
    apply_account(sessions, secret_box, **(imap_account(user) | {"port": dovecot_tls.imaps_port, "tls": "implicit"}))
    result = cli("test", "support")
    assert result.exit_code == 1 and "TLS error" in result.output and "certificate" in result.output.lower()
    assert "set ca_file" in result.output


def test_a_wrong_password_is_an_auth_error_without_the_app_password_hint(cli, mail_user, sessions, secret_box):
    apply_account(sessions, secret_box, **imap_account(mail_user, password="not-the-password"))
    result = cli("test", "support")
    assert result.exit_code == 1 and "AUTH error" in result.output and "login refused" in result.output
    assert "app password" not in result.output and "not-the-password" not in result.output


def test_a_password_that_is_also_in_the_servers_answer_is_masked_there_and_the_answer_stays(
        cli, mail_user, sessions, secret_box):
    """Dovecot answers "[AUTHENTICATIONFAILED] Authentication failed.": a (wrong) password "Authentication"
    is masked where it stands, the rest of what the server said is still shown."""
    apply_account(sessions, secret_box, **imap_account(mail_user, password="Authentication"))
    result = cli("test", "support")
    assert result.exit_code == 1 and "AUTH error" in result.output
    assert "login refused: [AUTHENTICATIONFAILED] ******** failed." in result.output, result.output
    assert "Authentication" not in result.output


def test_a_two_factor_refusal_is_an_auth_error_with_the_app_password_hint(cli, dovecot, sessions, secret_box):
    user = dovecot.special_user("two-factor")
    apply_account(sessions, secret_box, **imap_account(user))
    result = cli("test", "support")
    assert result.exit_code == 1 and "AUTH error" in result.output
    assert "two-factor" in result.output and "app password" in result.output
    assert user.password not in result.output


def test_no_accounts_command_prints_or_logs_a_password(cli, mail_user, sessions, secret_box, caplog):
    """Every command, succeeding and failing, scanned for the old and the new password."""
    caplog.set_level(logging.DEBUG)
    old, new = mail_user.password, "pw-the-new-one-4711"
    host = ["--host", "127.0.0.1", "--port", str(mail_user.server.imap_port), "--tls", "none"]
    cli("add", "--kind", "imap", "--name", "support", "--address", "s@example.com", "--project", "Support", *host,
        "--user", mail_user.name, "--password-stdin", input=old + "\n")
    cli("add", "--kind", "imap", "--name", "bad", "--address", "b@example.com", "--project", "Support", *host,
        "--user", mail_user.name, "--set", "timeout=soon", "--password-stdin", input=old + "\n")
    cli("add", input="\n".join(["3", "wizard", "w@example.com", "Support", "127.0.0.1", "none", "1",
                                mail_user.name, "", "", "", "", old, ""]) + "\n")
    for args in (["list"], ["list", "--json"], ["show", "support"], ["show", "support", "--json"],
                 ["folders", "support"], ["test", "support"], ["test", "wizard"], ["copy", "support", "copy"],
                 ["edit", "copy", "--set", "tls=sometimes"], ["activate", "copy"], ["deactivate", "support"],
                 ["activate", "copy"]):
        cli(*args)
    cli("edit", "copy", "--password-stdin", input=new + "\n")
    cli("edit", "copy", "--set", "port=oops", "--password-stdin", input=old + "\n")
    cli("test", "copy")
    cli("delete", "copy", "--yes")
    cli("delete", "wizard", input="y\n")
    printed = "\n".join(cli.outputs)
    assert "connected and logged in" in printed and "TCP error" in printed and "not valid" in printed
    for secret in (old, new):
        assert secret not in printed and secret not in caplog.text


def _timed(cli: AccountsCli) -> tuple[float, str, int]:
    started = time.monotonic()
    result = cli("test", "support")
    return time.monotonic() - started, result.output, result.exit_code


@pytest.mark.parametrize("kind,tls", [("imap", "starttls"), ("imap", "none"), ("pop3", "starttls"), ("pop3", "none")])
def test_a_plain_or_starttls_account_on_an_implicit_tls_port_is_named_in_seconds(cli, dovecot_tls, sessions,
                                                                                  secret_box, kind, tls):
    """Not a TCP timeout after the account's 60 s: the port answers a TLS handshake, and the test says so."""
    user = dovecot_tls.add_user()
    spec = imap_account(user) if kind == "imap" else pop3_account(user)
    port = dovecot_tls.imaps_port if kind == "imap" else dovecot_tls.pop3s_port
    apply_account(sessions, secret_box, **(spec | {"port": port, "tls": tls, "ca_file": str(dovecot_tls.tls.cert)}))
    took, output, code = _timed(cli)
    assert code == 1 and "TLS error" in output, output
    assert "this port expects implicit TLS" in output and "set tls: implicit" in output
    assert took < 10, took
    assert user.password not in output


@pytest.mark.parametrize("kind", ["imap", "pop3"])
def test_an_implicit_tls_account_on_a_plain_port_is_told_to_use_starttls(cli, dovecot_tls, sessions, secret_box,
                                                                         kind):
    user = dovecot_tls.add_user()
    spec = imap_account(user) if kind == "imap" else pop3_account(user)
    apply_account(sessions, secret_box, **(spec | {"tls": "implicit", "ca_file": str(dovecot_tls.tls.cert)}))
    took, output, code = _timed(cli)
    assert code == 1 and "TLS error" in output, output
    assert "set tls: starttls" in output and "not implicit TLS" in output and took < 10


@pytest.mark.parametrize("kind", ["imap", "pop3"])
def test_the_modes_that_fit_their_ports_connect(cli, dovecot_tls, sessions, secret_box, kind):
    """STARTTLS on the plain port and implicit TLS on the TLS port, with the server's CA as ca_file."""
    user = dovecot_tls.add_user()
    spec = (imap_account(user) if kind == "imap" else pop3_account(user)) | {"ca_file": str(dovecot_tls.tls.cert)}
    apply_account(sessions, secret_box, **(spec | {"tls": "starttls"}))
    took, output, code = _timed(cli)
    assert code == 0 and "connected and logged in" in output and took < 5, output
    port = dovecot_tls.imaps_port if kind == "imap" else dovecot_tls.pop3s_port
    apply_account(sessions, secret_box, **(spec | {"tls": "implicit", "port": port}))
    assert cli("test", "support").exit_code == 0
