"""The account examples in the README and in docs/ apply as written, and their secrets are sealed, never
stored in clear."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
import yaml
from sqlalchemy import select

from shared.accounts.specs import AccountSpec, apply_specs
from shared.db.models import Account
from shared.secrets import SecretBox, new_key

ROOT = Path(__file__).resolve().parents[2]
# Every document a reader copies accounts from: the README's first example, docs/mailboxes.md's per kind.
DOCUMENTS = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
BLOCKS = [(document.relative_to(ROOT).as_posix(), block) for document in DOCUMENTS
          for block in re.findall(r"```yaml\n(accounts:\n.*?)```", document.read_text(), re.S)]


def test_the_readme_and_the_mailbox_guide_have_account_examples() -> None:
    sources = [source for source, _ in BLOCKS]
    assert "README.md" in sources and sources.count("docs/mailboxes.md") >= 3


def _first_name(block: str) -> str:
    found = re.search(r"name: (\S+)", block)
    return found.group(1) if found else "?"


@pytest.mark.parametrize(("source", "block"), BLOCKS, ids=[f"{s}:{_first_name(b)}" for s, b in BLOCKS])
def test_a_documented_account_example_applies_and_seals_its_secrets(source: str, block: str, sessions: Any) -> None:
    box = SecretBox([new_key()])
    specs = [AccountSpec.model_validate(a) for a in yaml.safe_load(block)["accounts"]]
    with sessions() as session, session.begin():
        assert apply_specs(session, specs, Path.cwd(), box)
    with sessions() as session:
        for spec, account in zip(specs, session.scalars(select(Account).order_by(Account.id)), strict=True):
            secrets = spec.secrets()
            assert box.open(account.sealed_secrets) == secrets
            for value in secrets.values():
                assert value not in str(account.config)


def test_an_accounts_own_smtp_password_is_sealed_and_its_smtp_block_kept(sessions: Any) -> None:
    box = SecretBox([new_key()])
    spec = AccountSpec.model_validate({
        "name": "support", "kind": "imap", "address": "support@example.com", "project": "P",
        "host": "imap.example.com", "user": "support", "password": "imap-secret", "auto_reply_cc": True,
        "smtp": {"host": "smtp.example.com", "port": 587, "tls": "starttls", "user": "support"},
        "smtp_password": "smtp-secret", "templates": {"auto-reply": {"subject": "{{ token }}"}}})
    with sessions() as session, session.begin():
        apply_specs(session, [spec], Path.cwd(), box)
    with sessions() as session:
        account = session.scalar(select(Account))
        assert box.open(account.sealed_secrets) == {"password": "imap-secret", "smtp_password": "smtp-secret"}
        assert account.config["smtp"]["host"] == "smtp.example.com" and "secret" not in str(account.config)
