"""An IMAP account's ``folder`` and ``move_to`` are checked on a real Dovecot when an account is added,
edited or applied: a folder the server lacks is refused with the folders it has; a server that cannot
be asked gives a warning and the change is stored."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.support.accountcli import AccountsCli, stored
from tests.support.fetching import apply_account, imap_account
from tests.support.servers import free_port


@pytest.fixture
def cli(database_url: str, secret_key: str) -> AccountsCli:
    return AccountsCli(database_url, secret_key)


def _file(tmp_path: Path, *accounts: dict[str, Any]) -> str:
    path = tmp_path / "accounts.yaml"
    path.write_text(yaml.safe_dump({"accounts": [{"address": "s@example.com", "project": "Support"} | a
                                                 for a in accounts]}))
    return str(path)


def test_edit_refuses_a_folder_the_server_does_not_have_and_names_the_ones_it_has(cli, mail_user, sessions,
                                                                                  secret_box):
    mail_user.create_folder("Support")
    apply_account(sessions, secret_box, **imap_account(mail_user))
    typo = cli("edit", "support", "--set", "folder=Suport")
    assert typo.exit_code == 1, typo.output
    assert "folder 'Suport' (folder) does not exist on 127.0.0.1; folders: INBOX, Support" in typo.output
    assert "folder" not in stored(sessions, "support").config
    fixed = cli("edit", "support", "--set", "folder=Support")
    assert fixed.exit_code == 0 and "warning" not in fixed.output, fixed.output
    assert stored(sessions, "support").config["folder"] == "Support"


def test_edit_refuses_a_move_to_folder_until_it_exists(cli, mail_user, sessions, secret_box):
    apply_account(sessions, secret_box, **imap_account(mail_user))
    move = ("edit", "support", "--set", "after_fetch=move", "--set", "move_to=Done")
    refused = cli(*move)
    assert refused.exit_code == 1 and "folder 'Done' (move_to) does not exist" in refused.output
    assert "after_fetch" not in stored(sessions, "support").config
    mail_user.create_folder("Done")
    assert cli(*move).exit_code == 0 and stored(sessions, "support").config["move_to"] == "Done"


def test_edit_warns_and_stores_when_the_server_cannot_be_asked(cli, mail_user, sessions, secret_box):
    apply_account(sessions, secret_box, **imap_account(mail_user, port=free_port()))
    result = cli("edit", "support", "--set", "folder=Support")
    assert result.exit_code == 0, result.output
    assert "warning: support: could not check 'Support' on 127.0.0.1" in result.output
    assert "stored unchecked" in result.output and mail_user.password not in result.output
    assert stored(sessions, "support").config["folder"] == "Support"


def test_add_refuses_a_folder_the_server_does_not_have(cli, mail_user, sessions):
    result = cli("add", "--kind", "imap", "--name", "support", "--address", "s@example.com", "--project", "Support",
                 "--host", "127.0.0.1", "--port", str(mail_user.server.imap_port), "--tls", "none", "--user",
                 mail_user.name, "--folder", "Support", "--password-stdin", input=mail_user.password + "\n")
    assert result.exit_code == 1 and "folder 'Support' (folder) does not exist" in result.output
    assert stored(sessions, "support") is None


def test_apply_stores_nothing_when_one_accounts_folder_is_missing(cli, mail_user, dovecot, sessions, tmp_path):
    other = dovecot.add_user()
    other.create_folder("Sales")
    fine = imap_account(other, name="sales", folder="Sales")
    missing = imap_account(mail_user, folder="Support")
    result = cli("apply", "-f", _file(tmp_path, fine, missing))
    assert result.exit_code == 1 and "nothing applied" in result.output
    assert "folder 'Support' (folder) does not exist on 127.0.0.1; folders: INBOX" in result.output
    assert stored(sessions, "sales") is None and stored(sessions, "support") is None
    mail_user.create_folder("Support")
    applied = cli("apply", "-f", _file(tmp_path, fine, missing))
    assert applied.exit_code == 0 and "+ support" in applied.output and "+ sales" in applied.output


def test_apply_warns_for_an_unreachable_server_and_checks_only_what_changed(cli, mail_user, sessions, tmp_path):
    unreachable = imap_account(mail_user, port=free_port(), folder="Support")
    first = cli("apply", "-f", _file(tmp_path, unreachable))
    assert first.exit_code == 0 and "warning: support: could not check 'Support'" in first.output
    assert stored(sessions, "support").config["folder"] == "Support"
    again = cli("apply", "-f", _file(tmp_path, unreachable | {"poll_interval": 30}))
    assert again.exit_code == 0 and "warning" not in again.output and "~ support: config" in again.output
