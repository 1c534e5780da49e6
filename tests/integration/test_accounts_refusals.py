"""``postroom accounts apply`` and ``edit`` refuse a setting the catalog does not have (project, item
type, creator, status, step, a custom field's choice) or a misspelt key, with one line naming the
field and the fix, and store nothing: not the refused account, not the others in the file."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml
from sqlalchemy import func, select

from shared.db.models import Account
from tests.support.accountcli import AccountsCli, stored
from tests.support.cli import postroom

CATALOG = {
    "projects": [{"name": "Helpdesk"}],
    "users": [{"email": "bot@ours.example"}],
    "customers": [{"name": "ACME"}],
    "custom_fields": [{"name": "priority", "kind": "choice", "choices": ["low", "normal", "high"]},
                      {"name": "hours", "kind": "number"}],
}
GOOD = {"name": "support", "kind": "stdin", "address": "support@ours.example", "project": "Helpdesk",
        "item_type": "incident", "creator": "bot@ours.example", "reply_status": "open",
        "default_values": {"priority": "high", "status": "new", "step": "triage", "customer": "ACME", "hours": 2}}
OTHER = {"name": "sales", "kind": "stdin", "address": "sales@ours.example", "project": "Helpdesk"}


@pytest.fixture
def cli(database_url: str, secret_key: str, tmp_path: Path) -> AccountsCli:
    cli = AccountsCli(database_url, secret_key)
    catalog = tmp_path / "catalog.yaml"
    catalog.write_text(yaml.safe_dump(CATALOG))
    declared = postroom(cli.env, "config", "apply", "-f", str(catalog))
    assert declared.exit_code == 0, declared.output
    return cli


def accounts_file(tmp_path: Path, *accounts: dict[str, Any], **top: Any) -> str:
    path = tmp_path / "accounts.yaml"
    path.write_text(yaml.safe_dump({**top, "accounts": list(accounts)}))
    return str(path)


def count(sessions: Any) -> int:
    with sessions() as session:
        return session.scalar(select(func.count()).select_from(Account))


def refusal(result: Any) -> str:
    """The one line of a refusal (click prints "Error: ...")."""
    assert result.exit_code == 1, result.output
    lines = result.output.strip().splitlines()
    assert len(lines) == 1, result.output
    return lines[0]


REFUSALS: list[tuple[dict[str, Any], str]] = [
    ({"project": "Helpdsk"}, "account 'support': project 'Helpdsk' is not a declared project: declare it under "
                             "projects: and run 'postroom config apply -f FILE'; did you mean 'Helpdesk'?"),
    ({"item_type": "incidnet"}, "item_type 'incidnet' is not a declared item type: declare it under item_types:"),
    ({"creator": "robot@ours.example"}, "creator 'robot@ours.example' is not a declared user: declare it under users:"),
    ({"reply_status": "opne"}, "reply_status 'opne' is not a declared status: declare it under statuses: and run "
                               "'postroom config apply -f FILE'; did you mean 'open'?"),
    ({"default_values": {"step": "triag"}}, "default_values.step 'triag' is not a declared workflow step"),
    ({"default_values": {"status": "gone"}}, "default_values.status 'gone' is not a declared status"),
    ({"default_values": {"customer": "Acme Corp"}}, "default_values.customer 'Acme Corp' is not a declared customer"),
    ({"default_values": {"priority": "urgent"}},
     "default_values.priority: 'urgent' is not one of its choices (choices: low, normal, high)"),
    ({"default_values": {"hours": "two"}}, "default_values.hours: 'two' is not a number"),
    ({"default_values": {"prio": "low"}}, "default_values: 'prio' is no field; did you mean 'priority'?"),
    ({"field_mapping": {"title": "subjcet"}}, "field_mapping.title: 'subjcet' is no mail field; did you mean 'subject'?"),
    ({"quite_on_create": False}, "unknown key 'quite_on_create' in account 'support'; did you mean 'quiet_on_create'?"),
    ({"templates": {"created": {"text": "{% if x %}"}}}, "account 'support': template created.text, line 1"),
]


@pytest.mark.parametrize(("change", "message"), REFUSALS, ids=[f"{next(iter(c))}{i}" for i, (c, _) in
                                                               enumerate(REFUSALS)])
def test_apply_refuses_a_setting_that_does_not_exist_and_stores_no_account_of_the_file(
        cli: AccountsCli, sessions: Any, tmp_path: Path, change: dict[str, Any], message: str) -> None:
    line = refusal(cli("apply", "-f", accounts_file(tmp_path, OTHER, GOOD | change)))
    assert "nothing stored" in line and message in line
    assert count(sessions) == 0


def test_apply_stores_accounts_whose_settings_the_catalog_has(cli: AccountsCli, sessions: Any,
                                                              tmp_path: Path) -> None:
    result = cli("apply", "-f", accounts_file(tmp_path, OTHER, GOOD))
    assert result.exit_code == 0, result.output
    assert "+ support (stdin)" in result.output and count(sessions) == 2


def test_an_undeclared_item_type_starts_no_new_numbering(cli: AccountsCli, sessions: Any, tmp_path: Path) -> None:
    """Before, a typo in item_type made items of a new type, numbered from 1."""
    refusal(cli("apply", "-f", accounts_file(tmp_path, GOOD | {"item_type": "Incident"})))
    from shared.db.models import ItemSequence

    with sessions() as session:
        assert session.get(ItemSequence, "Incident") is None


def test_config_apply_and_accounts_apply_agree_on_an_undeclared_project(cli: AccountsCli, sessions: Any,
                                                                        tmp_path: Path) -> None:
    path = accounts_file(tmp_path, GOOD | {"project": "Nowhere"})
    by_config = refusal(postroom(cli.env, "config", "apply", "-f", path))
    by_accounts = refusal(cli("apply", "-f", path))
    assert by_config == by_accounts and "project 'Nowhere' is not a declared project" in by_config
    assert count(sessions) == 0
    declared = accounts_file(tmp_path, GOOD | {"project": "Nowhere"}, projects=[{"name": "Nowhere"}])
    assert postroom(cli.env, "config", "apply", "-f", declared).exit_code == 0
    assert stored(sessions, "support").project == "Nowhere"  # type: ignore[union-attr]


def test_accounts_apply_points_a_file_with_catalog_keys_to_config_apply(cli: AccountsCli, sessions: Any,
                                                                        tmp_path: Path) -> None:
    path = accounts_file(tmp_path, GOOD | {"project": "Nowhere"}, projects=[{"name": "Nowhere"}])
    assert f"apply this file with 'postroom config apply -f {path}'" in refusal(cli("apply", "-f", path))
    misspelt = tmp_path / "typo.yaml"
    misspelt.write_text(yaml.safe_dump({"acounts": [GOOD]}))
    assert "unknown key 'acounts'; did you mean 'accounts'?" in refusal(cli("apply", "-f", str(misspelt)))
    assert count(sessions) == 0


def test_an_account_declared_twice_is_refused(cli: AccountsCli, sessions: Any, tmp_path: Path) -> None:
    line = refusal(cli("apply", "-f", accounts_file(tmp_path, GOOD, GOOD | {"address": "b@ours.example"})))
    assert "account 'support' is declared twice" in line and count(sessions) == 0


@pytest.mark.parametrize(("sets", "message"), [
    (["project=Helpdsk"], "project 'Helpdsk' is not a declared project"),
    (["reply_status=opne"], "reply_status 'opne' is not a declared status"),
    (["default_values={priority: urgent}"], "'urgent' is not one of its choices"),
    (["quite_on_create=false"], "unknown key 'quite_on_create' in account 'support'; did you mean 'quiet_on_create'?"),
])
def test_edit_refuses_a_setting_that_does_not_exist_and_keeps_the_stored_one(
        cli: AccountsCli, sessions: Any, tmp_path: Path, sets: list[str], message: str) -> None:
    assert cli("apply", "-f", accounts_file(tmp_path, GOOD)).exit_code == 0
    args = [a for s in sets for a in ("--set", s)]
    assert message in refusal(cli("edit", "support", *args))
    account = stored(sessions, "support")
    assert account is not None and account.project == "Helpdesk" and account.reply_status == "open"
    assert account.default_values["priority"] == "high" and "quite_on_create" not in account.config


def test_show_tells_everything_that_applies_to_the_accounts_mail(cli: AccountsCli, tmp_path: Path) -> None:
    spec = GOOD | {"field_mapping": {"description": "reply"}, "auto_reply_same_thread": True, "auto_reply_cc": True,
                   "smtp": {"host": "smtp.ours.example", "port": 587, "tls": "starttls", "user": "support"},
                   "smtp_password": "never-shown-pw", "templates": {"created": {"subject": "{{ token }} new"}}}
    assert cli("apply", "-f", accounts_file(tmp_path, spec)).exit_code == 0
    shown = cli("show", "support")
    assert shown.exit_code == 0, shown.output
    out = shown.output
    assert "items: incident in project Helpdesk, creator bot@ours.example" in out
    assert "field mapping: title <- subject, description <- reply, contact <- sender, date <- date" in out
    (new,) = [line for line in out.splitlines() if line.startswith("  new items: default values ")]
    for shown_value in ("priority='high'", "status='new'", "step='triage'", "customer='ACME'", "hours=2"):
        assert shown_value in new
    assert "quiet_on_create=yes" in out and "replies: reply_status='open', reply_moves_step=yes" in out
    assert ("auto-reply: on, also in a thread of ours, Cc recipients too; sent through host=smtp.ours.example "
            "port=587 tls=starttls user=support") in out
    assert "templates: auto-reply built-in; created own subject; updated built-in; status-changed built-in" in out
    assert "never-shown-pw" not in out
