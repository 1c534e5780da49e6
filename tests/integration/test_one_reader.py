"""One active reader per mailbox, wherever accounts are stored or turned on: ``postroom accounts
apply``, ``add``, ``edit``, ``copy``, ``activate`` and the application layer under the API (the API's
own tests are in tests/api/test_api_accounts.py)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml
from sqlalchemy import select

from services.app.accountedits import add_account, edit_account
from services.app.accounts import set_active
from services.app.actors import OPERATOR
from services.app.errors import Conflict
from shared.accounts.readers import MailboxTaken, Reader, second_readers
from shared.db.models import Account
from tests.support.accountcli import AccountsCli, declare_projects, stored
from tests.support.fetching import apply_account


@pytest.fixture
def cli(database_url: str, secret_key: str) -> AccountsCli:
    return AccountsCli(database_url, secret_key)


def remote(name: str, kind: str = "imap", **config: Any) -> dict[str, Any]:
    return {"name": name, "kind": kind, "address": f"{name}@example.com", "project": "Support",
            "host": "localhost", "port": 993, "user": "Support@Example.com", "password": "pw-one-reader"} | config


def _config(spec: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in spec.items() if k not in ("name", "kind", "address", "project", "password")}


def _names(sessions) -> list[str]:  # type: ignore[no-untyped-def]
    with sessions() as session:
        return sorted(session.scalars(select(Account.name)))


def _file(tmp_path: Path, *accounts: dict[str, Any]) -> str:
    path = tmp_path / "accounts.yaml"
    path.write_text(yaml.safe_dump({"accounts": list(accounts)}))
    return str(path)


@pytest.mark.parametrize("other", [
    {"host": "127.0.0.1"},  # localhost resolves to it
    {"host": "LOCALHOST.", "port": 143, "tls": "starttls"},  # the plain IMAP port: the same mailbox
    {"user": "support@example.com", "port": None},  # users compare without case; 993 is the default
    {"folder": "inbox"},  # INBOX in any case
])
def test_the_same_mailbox_written_differently_is_recognised(sessions, secret_box, other):
    apply_account(sessions, secret_box, **remote("support"))
    with sessions() as session:
        problems = second_readers(session, [Reader("helpdesk", "imap", True, _config(remote("helpdesk", **other)))])
    assert len(problems) == 1 and "helpdesk would read" in problems[0] and "account support" in problems[0]
    assert "postroom accounts deactivate support" in problems[0] and "active: false" in problems[0]


@pytest.mark.parametrize("other", [{"folder": "Support"}, {"user": "other@example.com"}, {"port": 10993},
                                   {"host": "no-such-host.invalid"}, {"active": False}])
def test_another_folder_user_server_or_an_inactive_copy_is_no_second_reader(sessions, secret_box, other):
    apply_account(sessions, secret_box, **remote("support"))
    apply_account(sessions, secret_box, **remote("helpdesk", **other))
    assert _names(sessions) == ["helpdesk", "support"]


def test_pop3_ports_110_and_995_are_one_maildrop_and_imap_is_another_protocol(sessions, secret_box):
    apply_account(sessions, secret_box, **remote("legacy", "pop3", port=995))
    apply_account(sessions, secret_box, **remote("support", "imap"))  # IMAP, not the POP3 service
    with pytest.raises(MailboxTaken, match="legacy"):
        apply_account(sessions, secret_box, **remote("legacy2", "pop3", host="127.0.0.1", port=110, tls="none"))
    assert _names(sessions) == ["legacy", "support"]


def test_two_drop_folders_on_one_path_are_refused(sessions, secret_box, tmp_path):
    apply_account(sessions, secret_box, name="demo", kind="dropfolder", path=str(tmp_path / "inbox"))
    with pytest.raises(MailboxTaken, match="drop folder"):
        apply_account(sessions, secret_box, name="demo2", kind="dropfolder", path=str(tmp_path / "x" / ".." / "inbox"))


def test_apply_refuses_a_file_with_two_readers_of_one_mailbox_and_stores_nothing(cli, sessions, tmp_path):
    """All or nothing: the account that is fine is not stored either, and the message says what to do."""
    path = _file(tmp_path, remote("fine", user="fine@example.com"), remote("support"),
                 remote("helpdesk", host="127.0.0.1", port=143, tls="starttls"))
    result = cli("apply", "-f", path)
    assert result.exit_code == 1, result.output
    assert "nothing applied" in result.output and "helpdesk" in result.output and "support" in result.output
    assert "deactivate" in result.output and "pw-one-reader" not in result.output
    assert _names(sessions) == []
    fixed = _file(tmp_path, remote("fine", user="fine@example.com"), remote("support"),
                  remote("helpdesk", host="127.0.0.1", port=143, tls="starttls", active=False))
    assert cli("apply", "-f", fixed).exit_code == 0
    assert _names(sessions) == ["fine", "helpdesk", "support"]


def test_apply_refuses_a_second_reader_of_a_stored_account_and_changes_nothing(cli, sessions, secret_box, tmp_path):
    apply_account(sessions, secret_box, **remote("support"))
    path = _file(tmp_path, remote("support", project="Other"), remote("helpdesk", host="127.0.0.1"))
    result = cli("apply", "-f", path)
    assert result.exit_code == 1 and "which the active account support reads already" in result.output
    assert stored(sessions, "support").project == "Support" and stored(sessions, "helpdesk") is None
    # Declaring the original inactive in the same file hands the mailbox over.
    handed = _file(tmp_path, remote("support", active=False), remote("helpdesk", host="127.0.0.1"))
    assert cli("apply", "-f", handed).exit_code == 0
    assert not stored(sessions, "support").active and stored(sessions, "helpdesk").active


def test_add_refuses_an_active_second_reader_and_takes_an_inactive_one(cli, sessions, secret_box):
    apply_account(sessions, secret_box, **remote("support"))
    options = ["add", "--kind", "imap", "--name", "helpdesk", "--address", "h@example.com", "--project", "Support",
               "--host", "127.0.0.1", "--user", "SUPPORT@example.com", "--password-stdin"]
    refused = cli(*options, input="pw\n")
    assert refused.exit_code == 1 and "account support reads already" in refused.output
    assert stored(sessions, "helpdesk") is None
    assert cli(*options, "--inactive", input="pw\n").exit_code == 0
    assert not stored(sessions, "helpdesk").active


def test_edit_refuses_to_point_an_active_account_at_a_mailbox_another_reads(cli, sessions, secret_box):
    apply_account(sessions, secret_box, **remote("support"))
    apply_account(sessions, secret_box, **remote("helpdesk", user="helpdesk@example.com"))
    result = cli("edit", "helpdesk", "--set", "user=support@example.com")
    assert result.exit_code == 1 and "support" in result.output and "deactivate support" in result.output
    assert stored(sessions, "helpdesk").config["user"] == "helpdesk@example.com"


def test_copy_is_taken_inactive_and_activate_or_edit_active_is_refused(cli, sessions, secret_box):
    apply_account(sessions, secret_box, **remote("support"))
    assert cli("copy", "support", "helpdesk").exit_code == 0
    activated = cli("activate", "helpdesk")
    assert activated.exit_code == 1 and "account support reads already" in activated.output
    edited = cli("edit", "helpdesk", "--set", "active=true")
    assert edited.exit_code == 1 and "account support reads already" in edited.output
    assert not stored(sessions, "helpdesk").active
    assert cli("edit", "helpdesk", "--set", "folder=Archive", "--set", "active=true").exit_code == 0
    assert stored(sessions, "helpdesk").active


def test_the_application_layer_refuses_with_a_conflict(sessions, secret_box):
    """What the API answers 409 for: add, edit and activate."""
    declare_projects(sessions)
    apply_account(sessions, secret_box, **remote("support"))
    with sessions.begin() as session, pytest.raises(Conflict, match="account support reads already"):
        add_account(session, OPERATOR, remote("helpdesk", host="127.0.0.1"), secret_box)
    apply_account(sessions, secret_box, **remote("helpdesk", active=False))
    with sessions.begin() as session, pytest.raises(Conflict, match="account support reads already"):
        edit_account(session, OPERATOR, "helpdesk", {"active": True}, secret_box)
    with sessions.begin() as session, pytest.raises(Conflict, match="account support reads already"):
        set_active(session, OPERATOR, "helpdesk", True)
    assert not stored(sessions, "helpdesk").active
