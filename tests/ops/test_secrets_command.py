"""``postroom secrets rotate`` on both databases, and no secret value in a dump or in the output."""

from __future__ import annotations

import sqlite3
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml
from sqlalchemy import select
from sqlalchemy.engine import make_url

from shared.db.models import Account
from shared.secrets import SecretBox, SecretsUnavailable, new_key
from tests.support.accountcli import declare_projects_at
from tests.support.cli import postroom

SECRETS = {"support": {"password": "hunter2-Sup3r-secret"},
           "sales": {"client_secret": "cs-9f8e7d6c5b4a", "refresh_token": "rt-0123456789abcdef"}}


def apply_accounts(database_url: str, key: str, tmp_path: Path) -> dict[str, str]:
    specs = [{"name": name, "kind": "stdin", "address": f"{name}@example.test", "project": "IT", **values}
             for name, values in SECRETS.items()]
    specs.append({"name": "plain", "kind": "stdin", "address": "plain@example.test", "project": "IT"})
    path = tmp_path / "accounts.yaml"
    path.write_text(yaml.safe_dump({"accounts": specs}))
    env = {"DATABASE_URL": database_url, "POSTROOM_SECRET_KEYS": key}
    declare_projects_at(database_url, ("IT",))
    result = postroom(env, "accounts", "apply", "-f", str(path))
    assert result.exit_code == 0, result.output
    return env


def sealed(sessions: Any) -> dict[str, str | None]:
    with sessions() as s:
        return {a.name: a.sealed_secrets for a in s.scalars(select(Account))}


def dump(database_url: str) -> str:
    if database_url.startswith("sqlite"):
        with sqlite3.connect(make_url(database_url).database) as conn:  # type: ignore[arg-type]
            return "\n".join(conn.iterdump())
    url = make_url(database_url).set(drivername="postgresql").render_as_string(hide_password=False)
    return subprocess.run(["pg_dump", url], capture_output=True, text=True, check=True, timeout=60).stdout


def test_rotate_reseals_every_account_under_the_new_key_so_that_only_the_new_key_opens_them(
        database_url: str, sessions: Any, tmp_path: Path) -> None:
    old, new = new_key(), new_key()
    env = apply_accounts(database_url, old, tmp_path)
    before = sealed(sessions)

    result = postroom({**env, "POSTROOM_SECRET_KEYS": f"{new},{old}"}, "secrets", "rotate")
    assert result.exit_code == 0, result.output
    assert "re-sealed the secrets of 2 account(s)" in result.output
    after = sealed(sessions)
    assert after["plain"] is None and all(after[n] != before[n] for n in SECRETS)
    for name, values in SECRETS.items():
        assert SecretBox([new]).open(after[name]) == values
        with pytest.raises(SecretsUnavailable):
            SecretBox([old]).open(after[name])

    # Neither the database (dumped as a backup would be) nor the commands' output shows a secret.
    text = dump(database_url) + result.output
    assert after["support"] in text  # the dump holds the accounts, sealed
    for values in SECRETS.values():
        for secret in values.values():
            assert secret not in text


def test_rotate_fails_naming_the_account_no_key_opens_and_changes_nothing(
        database_url: str, sessions: Any, tmp_path: Path) -> None:
    old, new, lost = new_key(), new_key(), new_key()
    env = apply_accounts(database_url, old, tmp_path)
    with sessions() as s, s.begin():  # an account sealed under a key nobody has any more
        s.add(Account(name="orphan", kind="stdin", address="o@example.test", project="IT", config={},
                      sealed_secrets=SecretBox([lost]).seal({"password": "gone"})))
    before = sealed(sessions)

    result = postroom({**env, "POSTROOM_SECRET_KEYS": f"{new},{old}"}, "secrets", "rotate")
    assert result.exit_code != 0
    assert "account 'orphan'" in result.output and "nothing was changed" in result.output
    assert sealed(sessions) == before


def test_a_dry_run_checks_every_secret_opens_and_changes_nothing(
        database_url: str, sessions: Any, tmp_path: Path) -> None:
    old, new = new_key(), new_key()
    env = apply_accounts(database_url, old, tmp_path)
    before = sealed(sessions)
    result = postroom({**env, "POSTROOM_SECRET_KEYS": f"{new},{old}"}, "secrets", "rotate", "--dry-run")
    assert result.exit_code == 0 and "would re-seal the secrets of 2 account(s)" in result.output, result.output
    assert sealed(sessions) == before
