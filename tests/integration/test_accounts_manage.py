"""``postroom accounts list | add | edit | copy | delete | activate | deactivate`` against a real
Dovecot, the real fetcher and both databases."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import func, select

from shared.db.models import AccountHealth, FetchedDigest, FetcherLease, Item, ItemMail, MailboxCursor
from tests.support.accountcli import AccountsCli, stored
from tests.support.dovecot import sample_mail
from tests.support.fetching import apply_account, imap_account, payloads
from tests.support.items import handle, mail
from tests.support.waiting import wait_for


@pytest.fixture
def cli(database_url: str, secret_key: str) -> AccountsCli:
    return AccountsCli(database_url, secret_key)


def _health(sessions, account: str, field: str):  # type: ignore[no-untyped-def]
    with sessions() as session:
        row = session.get(AccountHealth, account)
        return getattr(row, field) if row else None


def _lease(sessions, name: str):  # type: ignore[no-untyped-def]
    with sessions() as session:
        return session.get(FetcherLease, name)


def test_list_shows_each_accounts_health_after_a_real_fetch(cli, mail_user, dovecot, sessions, secret_box,
                                                            memory_broker, fetcher):
    """One line per account: the working one with its last success and backlog, the refused one with its error."""
    mail_user.append(sample_mail(1))
    apply_account(sessions, secret_box, **imap_account(mail_user, after_fetch="leave"))
    stranger = dovecot.add_user()
    apply_account(sessions, secret_box, **imap_account(stranger, name="broken", password="not-the-password"))
    with fetcher():
        wait_for(lambda: len(memory_broker.published) == 1, what="the import")
        wait_for(lambda: _health(sessions, "support", "last_success_at") and _health(sessions, "broken", "last_error"),
                 what="success and failure recorded")
    rows = {r["name"]: r for r in json.loads(cli("list", "--json").output)}  # the fetcher's log lines are done
    assert rows["support"]["backlog"] == 0 and rows["support"]["active"] is True
    assert rows["broken"]["last_error_kind"] == "auth" and rows["broken"]["last_success_at"] is None
    text = cli("list").output.splitlines()
    assert text[0].split() == ["NAME", "KIND", "ACTIVE", "LAST", "SUCCESS", "BACKLOG", "TOKEN", "EXPIRES", "LAST",
                               "ERROR"]
    broken = next(line for line in text if line.startswith("broken"))
    support = next(line for line in text if line.startswith("support"))
    assert "auth: login refused" in broken and "never" in broken
    assert support.split()[:5] == ["support", "imap", "yes", rows["support"]["last_success_at"], "0"]
    assert support.split()[5:] == ["-", "-"]  # no token (not an OAuth kind), no error


def test_list_says_the_backlog_is_unknown_before_the_first_fetch(cli, sessions, secret_box, mail_user):
    """No checkpoint yet: nobody knows how much is waiting."""
    apply_account(sessions, secret_box, **imap_account(mail_user))
    row = json.loads(cli("list", "--json").output)[0]
    assert row["backlog"] is None and row["last_success_at"] is None
    assert "unknown" in cli("list").output.splitlines()[1]


def test_add_with_options_stores_a_sealed_account_that_fetches_and_deletes_after_read(
        cli, mail_user, sessions, secret_box, memory_broker, fetcher):
    """Scripted add: the recommended defaults (delete after read, incident) and the password sealed."""
    mail_user.append(sample_mail(1))
    result = cli("add", "--kind", "imap", "--name", "support", "--address", "support@example.com", "--project",
                 "Support", "--host", "127.0.0.1", "--port", str(mail_user.server.imap_port), "--tls", "none",
                 "--user", mail_user.name, "--existing-mail", "import", "--password-stdin",
                 input=mail_user.password + "\n")
    assert result.exit_code == 0, result.output
    account = stored(sessions, "support")
    assert account.config["after_fetch"] == "delete" and account.item_type == "incident" and account.active
    assert account.config["existing_mail"] == "import"
    assert "password" not in account.config and mail_user.password not in account.sealed_secrets
    assert secret_box.open(account.sealed_secrets) == {"password": mail_user.password}
    with fetcher():
        wait_for(lambda: len(memory_broker.published) == 1, what="the import")
        wait_for(lambda: mail_user.flags() == {}, what="the mail deleted after the import")
    assert payloads(memory_broker)[0]["account"] == "support"


def test_add_refuses_a_scripted_remote_account_without_a_password(cli, sessions):
    """Nothing is stored when the password is missing."""
    result = cli("add", "--kind", "pop3", "--name", "legacy", "--address", "l@example.com", "--project", "Support",
                 "--host", "127.0.0.1", "--user", "legacy")
    assert result.exit_code == 2 and "needs a password" in result.output
    assert stored(sessions, "legacy") is None


def test_add_asks_only_what_pop3_needs_with_defaults_then_the_account_fetches(
        cli, mail_user, sessions, secret_box, memory_broker, fetcher):
    """Interactive add: provider menu, pre-filled defaults accepted with Enter, the password hidden."""
    mail_user.append(sample_mail(1))
    answers = ["4",  # Other POP3
               "legacy", "legacy@example.com", "Support",  # name, address, project
               "127.0.0.1", "none", str(mail_user.server.pop3_port), mail_user.name,  # host, tls, port, user
               "",  # after_fetch: the default
               "import",  # existing mail: as new mail (the default, archive, would leave it on the server)
               "",  # item type: the default
               mail_user.password,
               ""]  # field mapping: the defaults
    result = cli("add", input="\n".join(answers) + "\n")
    assert result.exit_code == 0, result.output
    assert "3) Other IMAP" in result.output and "4) Other POP3" in result.output
    assert "[delete]" in result.output and "[incident]" in result.output and "title=subject" in result.output
    assert "Mail already in the mailbox" in result.output and "[archive]" in result.output
    assert "Folder to read" not in result.output  # an IMAP question
    assert mail_user.password not in result.output
    account = stored(sessions, "legacy")
    assert account.kind == "pop3" and account.config["after_fetch"] == "delete" and account.field_mapping == {}
    with fetcher():
        wait_for(lambda: len(memory_broker.published) == 1, what="the POP3 import")
        wait_for(lambda: mail_user.flags() == {}, what="the mail deleted after the import")


def test_edit_changes_a_field_and_reseals_a_new_password_showing_no_secret(cli, mail_user, sessions, secret_box):
    """The diff names the password as changed; the new one is sealed and works."""
    mail_user.create_folder("Support")
    apply_account(sessions, secret_box, **imap_account(mail_user, password="an-old-wrong-password"))
    before = stored(sessions, "support").sealed_secrets
    result = cli("edit", "support", "--set", "folder=Support", "--set", "poll_interval=30", "--password-stdin",
                 input=mail_user.password + "\n")
    assert result.exit_code == 0, result.output
    assert "folder: (default) -> 'Support'" in result.output and "poll_interval: (default) -> 30" in result.output
    assert "password: changed (sealed)" in result.output
    assert mail_user.password not in result.output and "an-old-wrong-password" not in result.output
    account = stored(sessions, "support")
    assert account.sealed_secrets != before and mail_user.password not in account.sealed_secrets
    assert secret_box.open(account.sealed_secrets)["password"] == mail_user.password
    assert account.config["folder"] == "Support" and account.config["poll_interval"] == 30
    tested = cli("test", "support")
    assert tested.exit_code == 0 and "Support: 0 message(s)" in tested.output


def test_edit_refuses_an_invalid_value_and_keeps_the_account(cli, mail_user, sessions, secret_box):
    """Validated through AccountSpec: a bad TLS mode changes nothing."""
    apply_account(sessions, secret_box, **imap_account(mail_user))
    result = cli("edit", "support", "--set", "tls=sometimes")
    assert result.exit_code == 1 and "not valid" in result.output and "tls" in result.output
    assert stored(sessions, "support").config["tls"] == "none"


def test_edit_refuses_a_secret_on_the_command_line(cli, mail_user, sessions, secret_box):
    """A password in --set would land in the shell history."""
    apply_account(sessions, secret_box, **imap_account(mail_user))
    result = cli("edit", "support", "--set", "password=visible")
    assert result.exit_code == 2 and "stdin" in result.output


def test_copy_is_inactive_with_the_sealed_secrets_and_fetches_once_activated(
        cli, mail_user, sessions, secret_box, memory_broker, fetcher):
    """The copy waits until activated; activating it beside the original reading the same mailbox is refused."""
    apply_account(sessions, secret_box, **imap_account(mail_user))
    result = cli("copy", "support", "helpdesk", "--address", "helpdesk@example.com")
    assert result.exit_code == 0, result.output
    copy = stored(sessions, "helpdesk")
    assert not copy.active and copy.address == "helpdesk@example.com"
    assert copy.config == stored(sessions, "support").config
    assert secret_box.open(copy.sealed_secrets) == {"password": mail_user.password}
    refused = cli("activate", "helpdesk")
    assert refused.exit_code == 1 and "support" in refused.output and not stored(sessions, "helpdesk").active
    assert cli("deactivate", "support").exit_code == 0
    assert cli("activate", "helpdesk").exit_code == 0 and stored(sessions, "helpdesk").active
    mail_user.append(sample_mail(1))
    with fetcher():
        wait_for(lambda: len(memory_broker.published) == 1, what="the import")
    assert [p["account"] for p in payloads(memory_broker)] == ["helpdesk"]


def test_copy_refuses_an_existing_name(cli, mail_user, sessions, secret_box):
    apply_account(sessions, secret_box, **imap_account(mail_user))
    apply_account(sessions, secret_box, **imap_account(mail_user, name="other", active=False))
    result = cli("copy", "support", "other")
    assert result.exit_code == 1 and "exists already" in result.output


def _count(sessions, model, account: str) -> int:  # type: ignore[no-untyped-def]
    with sessions() as session:
        return session.scalar(select(func.count()).select_from(model).where(model.account == account))


def test_delete_removes_the_account_and_its_fetch_state_but_keeps_items_and_mails(
        cli, mail_user, sessions, secret_box, memory_broker, fetcher):
    """Refused while a fetcher reads it; afterwards cursors, digests and health go, items stay."""
    mail_user.append(sample_mail(1))
    apply_account(sessions, secret_box, **imap_account(mail_user, after_fetch="leave"))
    with fetcher(replica_id="replica-d"):
        wait_for(lambda: len(memory_broker.published) == 1, what="the import")
        wait_for(lambda: _count(sessions, AccountHealth, "support"), what="health recorded")
        refused = cli("delete", "support", "--yes")
        assert refused.exit_code == 1 and "replica-d" in refused.output and "deactivate" in refused.output
    handle(sessions, mail(account="support", subject="Printer on fire"))
    assert _count(sessions, MailboxCursor, "support") and _count(sessions, FetchedDigest, "support")
    kept = cli("delete", "support", input="n\n")
    assert kept.exit_code == 1 and "Aborted" in kept.output and stored(sessions, "support") is not None
    result = cli("delete", "support", "--yes")
    assert result.exit_code == 0, result.output
    assert stored(sessions, "support") is None
    for model in (MailboxCursor, FetchedDigest, AccountHealth, FetcherLease):
        assert _count(sessions, model, "support") == 0, model.__tablename__
    assert _count(sessions, Item, "support") == 1 and _count(sessions, ItemMail, "support") == 1


def test_deactivate_stops_fetching_and_the_mail_stays_on_the_server(
        cli, mail_user, dovecot, sessions, secret_box, memory_broker, fetcher):
    """Once deactivated the reader lets go; new mail is not fetched while another account's is."""
    mail_user.append(sample_mail(1))
    apply_account(sessions, secret_box, **imap_account(mail_user, after_fetch="delete"))
    with fetcher():
        wait_for(lambda: len(memory_broker.published) == 1, what="the first import")
        assert cli("deactivate", "support").exit_code == 0
        wait_for(lambda: _lease(sessions, "support") is None, what="the reader letting go")
        mail_user.append(sample_mail(2))
        sentinel = dovecot.add_user()
        sentinel.append(sample_mail(3))
        apply_account(sessions, secret_box, **imap_account(sentinel, name="sentinel"))
        wait_for(lambda: "sentinel" in {p["account"] for p in payloads(memory_broker)},
                 what="the active account fetched after the deactivation")
    assert [p["account"] for p in payloads(memory_broker)] == ["support", "sentinel"]
    assert len(mail_user.flags()) == 1  # mail 2 is still there, untouched
    settings = stored(sessions, "support")
    assert not settings.active and secret_box.open(settings.sealed_secrets) == {"password": mail_user.password}


def test_a_copied_drop_folder_gets_a_folder_of_its_own_named_after_it(cli, sessions, secret_box, tmp_path):
    """Two drop-folder accounts sharing a folder would race for its files: the copy's folder is its own."""
    apply_account(sessions, secret_box, name="demo", kind="dropfolder", path=str(tmp_path / "inbox" / "demo"))
    assert cli("copy", "demo", "demo2").exit_code == 0
    assert stored(sessions, "demo2").config["path"] == str(tmp_path / "inbox" / "demo2")
    assert cli("activate", "demo2").exit_code == 0
    (tmp_path / "inbox" / "demo2").mkdir(parents=True)
    (tmp_path / "inbox" / "demo2" / "1.eml").write_bytes(sample_mail(1))
    tested = cli("test", "demo2")
    assert tested.exit_code == 0 and "folder: 1 message(s)" in tested.output


def test_edit_and_copy_refuse_clearly_when_no_configured_key_opens_the_secrets(database_url, mail_user, sessions,
                                                                                secret_box):
    """A rotated-away key is named as the problem, not shown as a traceback."""
    from shared.secrets import new_key

    apply_account(sessions, secret_box, **imap_account(mail_user))
    other_key = AccountsCli(database_url, new_key())
    for args in (("edit", "support", "--set", "folder=X"), ("copy", "support", "other")):
        result = other_key(*args)
        assert result.exit_code == 1 and "no configured key opens" in result.output, args
    assert stored(sessions, "other") is None and "folder" not in stored(sessions, "support").config


def test_list_shows_when_an_oauth_sign_in_lapses_and_a_missing_one(sessions, database_url, monkeypatch) -> None:
    """An OAuth account shows its sign-in's end (Google in Testing mode: 7 days after consent), one
    never connected says so, a password account shows none."""
    import json
    from datetime import UTC, datetime, timedelta

    from click.testing import CliRunner

    from services.cli.main import cli
    from shared.db.engine import transaction
    from shared.db.models import Account, OAuthToken

    consented = datetime(2026, 11, 20, tzinfo=UTC)
    google = {"provider": "google", "client_id": "x.apps.googleusercontent.com", "testing_mode": True}
    with transaction(sessions) as s:
        s.add(Account(name="gmail", kind="gmail", address="g@example.com", project="P", config={"oauth": google}))
        s.add(Account(name="fresh", kind="gmail", address="f@example.com", project="P", config={"oauth": google}))
        s.add(Account(name="imap", kind="imap", address="i@example.com", project="P", config={"host": "h", "user": "u"}))
        s.add(OAuthToken(account="gmail", provider="google", flow="installed", state="ok",
                         refresh_issued_at=consented, consented_at=consented,
                         access_expires_at=consented + timedelta(hours=1)))
    monkeypatch.setenv("DATABASE_URL", database_url)
    rows = {r["name"]: r for r in json.loads(CliRunner().invoke(cli, ["accounts", "list", "--json"]).output)}
    assert rows["gmail"]["token_expires_at"].startswith("2026-11-27")
    assert rows["fresh"]["has_token"] and rows["fresh"]["token_expires_at"] is None
    assert not rows["imap"]["has_token"]


def test_a_fixed_password_is_tried_at_once_not_after_the_back_off(cli, mail_user, sessions, secret_box,
                                                                  memory_broker, fetcher):
    """The wrong password fails and backs off for 30 s; `edit --password-stdin` with the right one
    makes the fetcher read the mailbox within seconds."""
    apply_account(sessions, secret_box, **(imap_account(mail_user) | {"password": "wrong password"}))
    mail_user.append(sample_mail(1))
    with fetcher(auth_backoff_base=30.0):
        wait_for(lambda: _health(sessions, "support", "consecutive_failures"), timeout=15, what="the failed login")
        assert _health(sessions, "support", "next_attempt_at") is not None
        fixed = cli("edit", "support", "--password-stdin", input=mail_user.password + "\n")
        assert fixed.exit_code == 0, fixed.output
        wait_for(lambda: len(memory_broker.published) == 1, timeout=8, what="the mail read after the fix")
    assert _health(sessions, "support", "consecutive_failures") == 0


def test_a_passing_accounts_test_ends_the_back_off(cli, mail_user, sessions, secret_box):
    """`accounts test` that logs in resets the failure streak the fetcher waits on."""
    from datetime import UTC, datetime, timedelta

    apply_account(sessions, secret_box, **imap_account(mail_user))
    with sessions() as session, session.begin():
        session.add(AccountHealth(account="support", consecutive_failures=4, last_error_kind="auth",
                                  next_attempt_at=datetime.now(UTC) + timedelta(hours=6)))
    result = cli("test", "support")
    assert result.exit_code == 0, result.output
    assert _health(sessions, "support", "next_attempt_at") is None
    assert _health(sessions, "support", "consecutive_failures") == 0
