"""``postroom accounts apply`` and ``edit`` check an account's templates before storing them: one
that would not render is refused, naming the template, its line and the reason, and nothing changes."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.support.accountcli import AccountsCli, stored

ACCOUNT = """accounts:
  - name: support
    kind: dropfolder
    address: support@example.test
    project: Support
    path: {path}
    templates:
      created:
        subject: "{{{{ token }}}} New"
        text: |
{text}
"""


@pytest.fixture
def cli(database_url: str, secret_key: str) -> AccountsCli:
    return AccountsCli(database_url, secret_key)


def accounts_file(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "accounts.yaml"
    body = "\n".join("          " + line for line in text.splitlines())
    path.write_text(ACCOUNT.format(path=tmp_path / "inbox", text=body))
    return path


@pytest.mark.parametrize(("text", "why"), [
    ("Hello {{ mail.from_name }},\n{% if item.status %}\nsee {{ link }}", "line 3: TemplateSyntaxError"),
    ("Hello,\n{{ mail.form_name }}", "line 2: mail has no 'form_name'"),
])
def test_apply_refuses_a_template_that_would_not_render_naming_it_its_line_and_the_reason(
        cli: AccountsCli, sessions: Any, tmp_path: Path, text: str, why: str) -> None:
    result = cli("apply", "-f", str(accounts_file(tmp_path, text)))
    assert result.exit_code == 1
    assert "account 'support': template created.text, " + why in result.output
    assert stored(sessions, "support") is None


def test_apply_stores_templates_that_render_and_edit_refuses_a_broken_one_keeping_the_stored(
        cli: AccountsCli, sessions: Any, tmp_path: Path) -> None:
    good = "Hello {{ mail.from_name }},\n{{ mail.reply_text }}\n{{ link }}"
    assert cli("apply", "-f", str(accounts_file(tmp_path, good))).exit_code == 0
    account = stored(sessions, "support")
    assert account is not None and account.config["templates"]["created"]["text"].startswith("Hello")

    result = cli("edit", "support", "--set", "templates={updated: {html: '<p>{{ item.titel }}</p>'}}")
    assert result.exit_code == 1, result.output
    assert "template updated.html, line 1: item has no 'titel'" in result.output
    assert stored(sessions, "support").config["templates"] == account.config["templates"]  # type: ignore[union-attr]

    fixed = cli("edit", "support", "--set", "templates={updated: {html: '<p>{{ item.title }}</p>'}}")
    assert fixed.exit_code == 0, fixed.output
    assert stored(sessions, "support").config["templates"] == {  # type: ignore[union-attr]
        "updated": {"html": "<p>{{ item.title }}</p>"}}


def test_the_same_thread_setting_is_stored_and_shown(cli: AccountsCli, sessions: Any, tmp_path: Path) -> None:
    assert cli("apply", "-f", str(accounts_file(tmp_path, "Hi"))).exit_code == 0
    assert stored(sessions, "support").auto_reply_same_thread is False  # type: ignore[union-attr]
    result = cli("edit", "support", "--set", "auto_reply_same_thread=true")
    assert result.exit_code == 0 and "auto_reply_same_thread: False -> True" in result.output
    assert stored(sessions, "support").auto_reply_same_thread is True  # type: ignore[union-attr]
