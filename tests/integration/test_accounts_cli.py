"""``postroom accounts folders`` and ``postroom accounts show`` against a real server and database."""

from __future__ import annotations

from click.testing import CliRunner

from services.cli.main import cli
from tests.support.dovecot import sample_mail
from tests.support.fetching import apply_account, imap_account
from tests.support.waiting import wait_for


def _run(monkeypatch, database_url: str, secret_key: str, *args: str):  # type: ignore[no-untyped-def]
    monkeypatch.setenv("DATABASE_URL", database_url)
    monkeypatch.setenv("POSTROOM_SECRET_KEYS", secret_key)
    return CliRunner().invoke(cli, list(args), catch_exceptions=False)


def test_folders_lists_the_servers_folders_and_marks_the_one_read(mail_user, sessions, secret_box, secret_key,
                                                                   database_url, monkeypatch):
    mail_user.create_folder("Support")
    apply_account(sessions, secret_box, **imap_account(mail_user, folder="Support"))
    result = _run(monkeypatch, database_url, secret_key, "accounts", "folders", "support")
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert "  INBOX" in [line[:7] for line in lines] and any(line.startswith("* Support") for line in lines)
    assert mail_user.password not in result.output


def test_show_tells_progress_health_and_reader_without_secrets(mail_user, sessions, secret_box, secret_key,
                                                               database_url, monkeypatch, memory_broker, fetcher):
    for n in range(3):
        mail_user.append(sample_mail(n))
    apply_account(sessions, secret_box, **imap_account(mail_user, after_fetch="leave"))
    with fetcher(replica_id="replica-x"):
        wait_for(lambda: len(memory_broker.published) == 3, what="the import")

        def shown():  # type: ignore[no-untyped-def]
            result = _run(monkeypatch, database_url, secret_key, "accounts", "show", "support")
            return result if "last success: 20" in result.output else None
        result = wait_for(shown, what="the success recorded")
    assert result.exit_code == 0, result.output
    assert "read by: replica-x" in result.output
    assert "INBOX: 3 imported, last UID 3" in result.output and "up to date" in result.output
    assert mail_user.password not in result.output
    assert "items: incident in project Support, creator none" in result.output
    assert "field mapping: title <- subject, description <- body" in result.output
    assert "auto-reply: on, first mail of a thread only; sent through the default SMTP server" in result.output
    assert "sender verification trusts: nothing: no authserv-id is trusted" in result.output
