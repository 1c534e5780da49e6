"""Managing accounts over the API, the same operations as ``postroom accounts``: admins only, and
secrets are write-only (taken in an account's fields, never in an answer, sealed in the database)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from shared.db.models import Account, AccountHealth
from shared.secrets import new_key
from tests.api.conftest import Api

PASSWORD = "hunter2-never-shown"
ROUTES = [("GET", "/api/v1/accounts/support"), ("POST", "/api/v1/accounts"),
          ("PATCH", "/api/v1/accounts/support"), ("POST", "/api/v1/accounts/support/copy"),
          ("DELETE", "/api/v1/accounts/support"), ("POST", "/api/v1/accounts/support/activate"),
          ("POST", "/api/v1/accounts/support/deactivate"), ("POST", "/api/v1/accounts/support/test"),
          ("GET", "/api/v1/accounts/support/folders"), ("POST", "/api/v1/accounts/support/refresh")]
BODIES: dict[str, Any] = {"/api/v1/accounts": {"name": "x", "kind": "stdin", "address": "x@ours.example",
                                               "project": "Support"},
                          "/api/v1/accounts/support": {"set": {"project": "Other"}},
                          "/api/v1/accounts/support/copy": {"name": "support-copy"}}


@pytest.fixture
def keyed(api: Api) -> Api:
    """The API with a key to seal secrets with (the key file it reads when none is configured)."""
    (Path(api.settings.var_dir) / "secret.key").write_text(new_key())
    return api


def imap(name: str = "helpdesk", **extra: Any) -> dict[str, Any]:
    return {"name": name, "kind": "imap", "address": f"{name}@ours.example", "project": "Support",
            "host": "imap.ours.example", "user": name, "password": PASSWORD} | extra


@pytest.mark.parametrize("method,path", ROUTES)
def test_every_account_operation_is_for_admins_only(keyed: Api, agent: dict[str, str], method: str,
                                                    path: str) -> None:
    body = BODIES.get(path) if method in ("POST", "PATCH") else None
    unsigned = keyed.client.request(method, path, json=body)
    assert unsigned.status_code == 401
    refused = keyed.client.request(method, path, headers=agent, json=body)
    assert refused.status_code == 403 and refused.json()["error"] == "forbidden"
    with keyed.sessions() as session:
        assert session.scalar(select(Account.project).where(Account.name == "support")) == "Support"
        assert session.scalar(select(Account.name).where(Account.name.in_(["x", "support-copy"]))) is None


def test_an_admin_adds_shows_edits_copies_and_deletes_an_account_never_seeing_its_password(
        keyed: Api, admin: dict[str, str]) -> None:
    added = keyed.client.post("/api/v1/accounts", headers=admin, json=imap())
    assert added.status_code == 201, added.text
    assert added.json()["name"] == "helpdesk" and added.json()["has_secrets"] is True
    shown = keyed.client.get("/api/v1/accounts/helpdesk", headers=admin)
    assert shown.status_code == 200 and shown.json()["secrets"] == "sealed"
    assert shown.json()["config"]["host"] == "imap.ours.example" and "password" not in shown.json()["config"]
    with keyed.sessions() as session:
        sealed = session.scalar(select(Account.sealed_secrets).where(Account.name == "helpdesk"))
    assert sealed and PASSWORD not in sealed

    edited = keyed.client.patch("/api/v1/accounts/helpdesk", headers=admin,
                                json={"set": {"folder": "Support", "password": "a-new-password-xyz"}})
    assert edited.status_code == 200, edited.text
    assert edited.json()["changes"] == ["  folder: (default) -> 'Support'", "  password: changed (sealed)"]
    again = keyed.client.patch("/api/v1/accounts/helpdesk", headers=admin, json={"set": {"folder": "Support"}})
    assert again.json()["changes"] == []
    renamed = keyed.client.patch("/api/v1/accounts/helpdesk", headers=admin, json={"set": {"name": "other"}})
    assert renamed.status_code == 422 and renamed.json()["field"] == "name"

    copied = keyed.client.post("/api/v1/accounts/helpdesk/copy", headers=admin, json={"name": "helpdesk-2"})
    assert copied.status_code == 201 and copied.json()["active"] is False and copied.json()["has_secrets"] is True
    # The copy reads the same mailbox as the active original: activating it would import every mail twice.
    twice = keyed.client.post("/api/v1/accounts/helpdesk-2/activate", headers=admin)
    assert twice.status_code == 409 and "the active account helpdesk reads already" in twice.json()["message"]

    deleted = keyed.client.delete("/api/v1/accounts/helpdesk-2", headers=admin)
    assert deleted.status_code == 200 and deleted.json()["name"] == "helpdesk-2"
    assert keyed.client.get("/api/v1/accounts/helpdesk-2", headers=admin).status_code == 404
    everything = [keyed.client.get(p, headers=admin).text for p in ("/api/v1/accounts", "/api/v1/accounts/helpdesk")]
    for text in [added.text, shown.text, edited.text, copied.text, *everything]:
        assert PASSWORD not in text and "a-new-password-xyz" not in text and (sealed or "") not in text


def test_a_refused_account_names_the_problem_without_echoing_the_password(keyed: Api, admin: dict[str, str]) -> None:
    answer = keyed.client.post("/api/v1/accounts", headers=admin, json=imap(host=None, tls="sometimes"))
    assert answer.status_code == 422 and "not valid" in answer.json()["message"]
    assert PASSWORD not in answer.text
    exists = keyed.client.post("/api/v1/accounts", headers=admin,
                               json={"name": "support", "kind": "stdin", "address": "s@ours.example", "project": "P"})
    assert exists.status_code == 409 and "exists already" in exists.json()["message"]


def test_the_connection_test_and_the_folders_of_an_account(keyed: Api, admin: dict[str, str], tmp_path: Path) -> None:
    folder = tmp_path / "drop"
    folder.mkdir()
    (folder / "one.eml").write_bytes(b"Subject: hi\r\n\r\nhello\r\n")
    added = keyed.client.post("/api/v1/accounts", headers=admin, json={
        "name": "drop", "kind": "dropfolder", "address": "drop@ours.example", "project": "Support",
        "path": str(folder)})
    assert added.status_code == 201, added.text
    tested = keyed.client.post("/api/v1/accounts/drop/test", headers=admin)
    assert tested.status_code == 200, tested.text
    assert tested.json()["ok"] is True and tested.json()["messages"] == 1
    assert tested.json()["summary"] == f"drop: drop folder {folder} is readable"
    not_imap = keyed.client.get("/api/v1/accounts/drop/folders", headers=admin)
    assert not_imap.status_code == 422 and "only IMAP, Graph and Gmail accounts have folders" in not_imap.json()["message"]
    assert keyed.client.post("/api/v1/accounts/nobody/test", headers=admin).status_code == 404


def test_a_second_active_reader_of_one_mailbox_is_refused_and_nothing_is_stored(keyed: Api,
                                                                                 admin: dict[str, str]) -> None:
    """The same server written another way (a resolved address, the other port of the protocol, the
    user in capitals) is the same mailbox; an inactive copy may wait beside it."""
    assert keyed.client.post("/api/v1/accounts", headers=admin, json=imap(host="localhost")).status_code == 201
    second = imap("helpdesk-2", host="127.0.0.1", port=143, tls="starttls", user="HELPDESK")
    added = keyed.client.post("/api/v1/accounts", headers=admin, json=second)
    assert added.status_code == 409, added.text
    assert "the active account helpdesk reads already" in added.json()["message"] and PASSWORD not in added.text
    assert keyed.client.get("/api/v1/accounts/helpdesk-2", headers=admin).status_code == 404
    waiting = keyed.client.post("/api/v1/accounts", headers=admin, json=second | {"active": False})
    assert waiting.status_code == 201, waiting.text
    edited = keyed.client.patch("/api/v1/accounts/helpdesk-2", headers=admin, json={"set": {"active": True}})
    assert edited.status_code == 409 and "deactivate helpdesk" in edited.json()["message"]
    assert keyed.client.post("/api/v1/accounts/helpdesk-2/activate", headers=admin).status_code == 409
    assert keyed.client.get("/api/v1/accounts/helpdesk-2", headers=admin).json()["active"] is False


def test_an_edit_naming_a_folder_the_server_lacks_is_refused_and_an_unreachable_one_warns(
        keyed: Api, admin: dict[str, str], mail_user: Any) -> None:
    """Checked on a real Dovecot: the folders it has are named; a server that cannot be asked is a warning."""
    account = imap(host="127.0.0.1", port=mail_user.server.imap_port, tls="none", user=mail_user.name,
                   password=mail_user.password)
    assert keyed.client.post("/api/v1/accounts", headers=admin, json=account).status_code == 201
    missing = keyed.client.patch("/api/v1/accounts/helpdesk", headers=admin, json={"set": {"folder": "Support"}})
    assert missing.status_code == 422 and missing.json()["field"] == "folder"
    assert "folder 'Support' (folder) does not exist on 127.0.0.1; folders: INBOX" in missing.json()["message"]
    mail_user.create_folder("Support")
    found = keyed.client.patch("/api/v1/accounts/helpdesk", headers=admin, json={"set": {"folder": "Support"}})
    assert found.status_code == 200 and found.json()["warnings"] == []
    away = keyed.client.patch("/api/v1/accounts/helpdesk", headers=admin, json={"set": {"host": "imap.ours.example"}})
    assert away.status_code == 200 and away.json()["changes"] == ["  host: '127.0.0.1' -> 'imap.ours.example'"]
    assert "could not check 'Support' on imap.ours.example" in away.json()["warnings"][0]
    assert mail_user.password not in away.text


def _accounts(api: Api) -> dict[str, Any]:
    with api.sessions() as session:
        return {a.name: (a.project, a.reply_status, dict(a.config)) for a in session.scalars(select(Account))}


@pytest.mark.parametrize(("body", "message"), [
    ({"project": "Suport"}, "project 'Suport' is not a declared project: declare it under projects: and run "
                            "'postroom config apply -f FILE'; did you mean 'Support'?"),
    ({"item_type": "incidnet"}, "item_type 'incidnet' is not a declared item type"),
    ({"creator": "nobody@ours.example"}, "creator 'nobody@ours.example' is not a declared user"),
    ({"reply_status": "opne"}, "reply_status 'opne' is not a declared status"),
    ({"default_values": {"step": "triag"}}, "default_values.step 'triag' is not a declared workflow step"),
    ({"quite_on_create": False}, "unknown key 'quite_on_create' in account 'helpdesk'; did you mean 'quiet_on_create'?"),
])
def test_an_account_naming_what_the_catalog_lacks_is_refused_and_not_stored(
        keyed: Api, admin: dict[str, str], body: dict[str, Any], message: str) -> None:
    before = _accounts(keyed)
    answer = keyed.client.post("/api/v1/accounts", headers=admin, json=imap() | body)
    assert answer.status_code == 422, answer.text
    assert message in answer.json()["message"] and "\n" not in answer.json()["message"]
    assert PASSWORD not in answer.text
    assert _accounts(keyed) == before


@pytest.mark.parametrize(("changes", "message"), [
    ({"project": "Nowhere"}, "project 'Nowhere' is not a declared project"),
    ({"reply_status": "opne"}, "did you mean 'open'?"),
    ({"quite_on_create": False}, "unknown key 'quite_on_create' in account 'support'; did you mean 'quiet_on_create'?"),
])
def test_an_edit_naming_what_the_catalog_lacks_is_refused_and_the_account_kept(
        keyed: Api, admin: dict[str, str], changes: dict[str, Any], message: str) -> None:
    before = _accounts(keyed)
    answer = keyed.client.patch("/api/v1/accounts/support", headers=admin, json={"set": changes})
    assert answer.status_code == 422, answer.text
    assert message in answer.json()["message"]
    assert _accounts(keyed) == before


def test_an_accounts_report_tells_what_applies_to_its_mail(keyed: Api, admin: dict[str, str]) -> None:
    edited = keyed.client.patch("/api/v1/accounts/support", headers=admin,
                                json={"set": {"reply_status": "waiting", "field_mapping": {"title": "reply"}}})
    assert edited.status_code == 200, edited.text
    settings = keyed.client.get("/api/v1/accounts/support", headers=admin).json()["settings"]
    assert settings["field_mapping"]["title"] == "reply" and settings["field_mapping"]["contact"] == "sender"
    assert settings["new_items"]["project"] == "Support" and settings["replies"]["reply_status"] == "waiting"
    assert settings["auto_reply"]["smtp"] == "default" and settings["templates"]["created"] == "built-in"


def test_a_refresh_ends_the_back_off_at_once_and_an_inactive_account_is_refused(keyed: Api,
                                                                                admin: dict[str, str]) -> None:
    with keyed.sessions.begin() as session:
        session.add(AccountHealth(account="support", last_error_kind="network", last_error="timed out",
                                  consecutive_failures=4, next_attempt_at=datetime.now(UTC) + timedelta(hours=6)))
    refreshed = keyed.client.post("/api/v1/accounts/support/refresh", headers=admin)
    assert refreshed.status_code == 200, refreshed.text
    assert refreshed.json()["name"] == "support"
    with keyed.sessions() as session:
        health = session.get(AccountHealth, "support")
        assert health is not None and health.next_attempt_at is None and health.consecutive_failures == 0
    assert keyed.client.post("/api/v1/accounts/support/deactivate", headers=admin).status_code == 200
    refused = keyed.client.post("/api/v1/accounts/support/refresh", headers=admin)
    assert refused.status_code == 409 and "inactive" in refused.json()["message"]
    assert keyed.client.post("/api/v1/accounts/nobody/refresh", headers=admin).status_code == 404
