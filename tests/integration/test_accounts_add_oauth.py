"""``postroom accounts add`` for Microsoft 365 and Google: only the sign-in fields each needs, the
spec ``accounts apply`` takes (a nested ``oauth:`` block), the client secret sealed, and the next
step (``connect``) told."""

from __future__ import annotations

from pathlib import Path

import pytest

from shared.accounts.specs import AccountSpec
from tests.support.accountcli import AccountsCli, stored

CLIENT_ID = "11111111-2222-3333-4444-555555555555"
GOOGLE_ID = "cid.apps.googleusercontent.com"


@pytest.fixture
def cli(database_url: str, secret_key: str) -> AccountsCli:
    return AccountsCli(database_url, secret_key)


def _common(name: str = "support", address: str = "support@contoso.example") -> list[str]:
    return [name, address, "SUP"]


def test_interactive_microsoft_365_asks_the_sign_in_and_stores_the_readme_spec(cli, sessions, secret_box):
    """Menu entry 1, the tenant pre-filled from the address, device code and delete after read by default."""
    answers = ["1", *_common(), CLIENT_ID,
               "",  # tenant: the address's domain
               "",  # sign-in: device code
               "",  # folder: inbox
               "",  # after_fetch: delete
               "",  # existing mail: archive
               "",  # item type: incident
               ""]  # field mapping: the defaults
    result = cli("add", input="\n".join(answers) + "\n")
    assert result.exit_code == 0, result.output
    assert "1) Microsoft 365" in result.output and "2) Google" in result.output
    assert "[contoso.example]" in result.output and "[device_code]" in result.output and "[delete]" in result.output
    assert "Password" not in result.output and "secret" not in result.output.lower()
    assert "postroom accounts connect support" in result.output
    account = stored(sessions, "support")
    assert account.kind == "graph" and account.item_type == "incident" and account.field_mapping == {}
    assert account.config["oauth"] == {"provider": "microsoft", "client_id": CLIENT_ID, "tenant": "contoso.example"}
    assert account.config["folder"] == "inbox" and account.config["after_fetch"] == "delete"
    assert account.config["existing_mail"] == "archive"
    assert account.config["mailbox"] == "support@contoso.example"
    assert secret_box.open(account.sealed_secrets) == {}


def test_interactive_app_only_microsoft_asks_the_client_secret_hidden_and_seals_it(cli, sessions, secret_box):
    secret = "app-secret-value-4711"
    answers = ["1", *_common("shared", "helpdesk@contoso.example"), CLIENT_ID, "contoso.example",
               "client_credentials", "", "mark_read", "", "", secret, ""]
    result = cli("add", input="\n".join(answers) + "\n")
    assert result.exit_code == 0, result.output
    assert "Client secret" in result.output and secret not in result.output
    account = stored(sessions, "shared")
    assert account.config["oauth"]["flow"] == "client_credentials" and account.config["after_fetch"] == "mark_read"
    assert secret not in str(account.config) and secret not in account.sealed_secrets
    assert secret_box.open(account.sealed_secrets) == {"client_secret": secret}


def test_interactive_google_asks_client_id_labels_and_the_client_secret(cli, sessions, secret_box):
    """Menu entry 2: no tenant or flow question; labels as a list; trash after read by default."""
    secret = "GOCSPX-google-secret"
    answers = ["2", *_common("gmail", "help@example.com"), GOOGLE_ID, "INBOX, Label_3", "", "", "", secret, ""]
    result = cli("add", input="\n".join(answers) + "\n")
    assert result.exit_code == 0, result.output
    assert "Tenant" not in result.output and "[trash]" in result.output and secret not in result.output
    assert "postroom accounts connect gmail" in result.output
    account = stored(sessions, "gmail")
    assert account.kind == "gmail" and account.config["oauth"] == {"provider": "google", "client_id": GOOGLE_ID}
    assert account.config["labels"] == ["INBOX", "Label_3"] and account.config["after_fetch"] == "trash"
    assert secret_box.open(account.sealed_secrets) == {"client_secret": secret}


def test_scripted_google_takes_the_client_secret_from_stdin_and_refuses_without_it(cli, sessions, secret_box):
    base = ["add", "--kind", "gmail", "--name", "gmail", "--address", "help@example.com", "--project", "SUP",
            "--client-id", GOOGLE_ID]
    refused = cli(*base)
    assert refused.exit_code == 2 and "--client-secret-stdin" in refused.output and stored(sessions, "gmail") is None
    result = cli(*base, "--client-secret-stdin", input="GOCSPX-from-stdin\n")
    assert result.exit_code == 0, result.output
    account = stored(sessions, "gmail")
    assert account.config == {"labels": ["INBOX"], "after_fetch": "trash",
                               "oauth": {"provider": "google", "client_id": GOOGLE_ID}}
    assert secret_box.open(account.sealed_secrets) == {"client_secret": "GOCSPX-from-stdin"}


def test_scripted_microsoft_needs_a_client_id_and_builds_what_apply_builds(cli, sessions, secret_box):
    """The stored account equals the one ``apply`` stores from the README's spec."""
    base = ["add", "--kind", "graph", "--name", "support", "--address", "support@contoso.com", "--project", "SUP"]
    missing = cli(*base)
    assert missing.exit_code == 2 and "--client-id" in missing.output
    result = cli(*base, "--client-id", CLIENT_ID, "--tenant", "contoso.com", "--after-fetch", "mark_read")
    assert result.exit_code == 0, result.output
    readme = AccountSpec.model_validate({
        "name": "support", "kind": "graph", "address": "support@contoso.com", "project": "SUP", "folder": "inbox",
        "after_fetch": "mark_read", "oauth": {"provider": "microsoft", "client_id": CLIENT_ID, "tenant": "contoso.com"}})
    assert stored(sessions, "support").config == readme.config(Path.cwd())


def test_scripted_imap_with_an_oauth_provider_logs_in_with_xoauth2_and_needs_no_password(cli, sessions, secret_box):
    result = cli("add", "--kind", "imap", "--name", "imap-m365", "--address", "support@contoso.com", "--project",
                 "SUP", "--host", "outlook.office365.com", "--oauth-provider", "microsoft", "--client-id", CLIENT_ID)
    assert result.exit_code == 0, result.output
    assert "postroom accounts connect imap-m365" in result.output
    config = stored(sessions, "imap-m365").config
    assert config["auth"] == "xoauth2" and config["user"] == "support@contoso.com"
    assert config["oauth"] == {"provider": "microsoft", "client_id": CLIENT_ID, "tenant": "contoso.com"}


def test_an_oauth_provider_is_refused_for_an_api_account(cli, sessions):
    result = cli("add", "--kind", "gmail", "--name", "g", "--address", "g@example.com", "--project", "SUP",
                 "--client-id", GOOGLE_ID, "--oauth-provider", "microsoft", "--client-secret-stdin", input="s\n")
    assert result.exit_code == 2 and "--oauth-provider is for IMAP and POP3" in result.output
    assert stored(sessions, "g") is None


def test_edit_changes_one_field_of_the_oauth_block_and_reseals_a_new_client_secret(cli, sessions, secret_box):
    cli("add", "--kind", "graph", "--name", "shared", "--address", "helpdesk@contoso.com", "--project", "SUP",
        "--client-id", CLIENT_ID, "--flow", "client_credentials", "--client-secret-stdin", input="old-secret\n")
    result = cli("edit", "shared", "--set", "oauth.tenant=fabrikam.example", "--client-secret-stdin",
                 input="new-secret\n")
    assert result.exit_code == 0, result.output
    assert "client_secret: changed (sealed)" in result.output and "new-secret" not in result.output
    account = stored(sessions, "shared")
    assert account.config["oauth"] == {"provider": "microsoft", "client_id": CLIENT_ID, "tenant": "fabrikam.example",
                                       "flow": "client_credentials"}
    assert secret_box.open(account.sealed_secrets) == {"client_secret": "new-secret"}


def test_a_secret_inside_a_block_is_refused_on_the_command_line(cli, sessions):
    result = cli("add", "--kind", "graph", "--name", "g", "--address", "g@contoso.com", "--project", "SUP",
                 "--client-id", CLIENT_ID, "--set", "oauth.client_secret=visible")
    assert result.exit_code == 2 and "is a secret" in result.output and stored(sessions, "g") is None


def test_interactive_imap_with_an_oauth_provider_asks_its_sign_in_instead_of_a_password(cli, sessions, secret_box):
    answers = ["3", *_common("gmail-imap", "help@example.com"), "imap.gmail.com", "", "", "", "", "", "",
               GOOGLE_ID,  # the Google sign-in, after the IMAP fields
               "", "GOCSPX-imap", ""]
    result = cli("add", "--oauth-provider", "google", input="\n".join(answers) + "\n")
    assert result.exit_code == 0, result.output
    assert "Password" not in result.output and "Client secret" in result.output and "GOCSPX-imap" not in result.output
    account = stored(sessions, "gmail-imap")
    assert account.config["auth"] == "xoauth2" and account.config["user"] == "help@example.com"
    assert account.config["oauth"] == {"provider": "google", "client_id": GOOGLE_ID}
    assert secret_box.open(account.sealed_secrets) == {"client_secret": "GOCSPX-imap"}
