"""The actions of each row of the accounts page, in the real Chromium over the real database: Refresh
(the fetcher's wake-up recorded), Copy (through the application layer, secrets sealed, inactive; a
taken name refused next to the field), Delete (after a page saying what goes and what stays), the
backlog and token expiry in the health cell, and none of it for an agent."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from playwright.sync_api import expect
from sqlalchemy import func, select

from services.app.accountedits import add_account as add_spec
from services.app.actors import OPERATOR
from shared.accounts.edit import spec_values
from shared.db.engine import transaction
from shared.db.models import Account, AccountHealth, FetcherLease, Item, MailboxCursor, OAuthToken
from shared.secrets import SecretBox
from tests.console.conftest import ADMIN, AGENT, Console, Tab
from tests.console.test_console_forms import _signed_in
from tests.console.test_console_layout import _PROBLEMS
from tests.support.accountcli import declare_projects
from tests.support.items import add_account

PASSWORD = "imap-password-in-the-row-test"


@pytest.fixture
def keyed(console: Console, secret_key: str) -> Console:
    """The console seals with the test's key; the accounts name declared projects."""
    (Path(console.settings.var_dir) / "secret.key").write_text(secret_key)
    declare_projects(console.sessions)
    return console


def _account(console: Console, name: str) -> Account | None:
    with console.sessions() as session:
        return session.scalar(select(Account).where(Account.name == name))


def _health(console: Console, name: str) -> AccountHealth | None:
    with console.sessions() as session:
        return session.get(AccountHealth, name)


def test_an_admin_copies_an_account_and_a_taken_name_is_refused_next_to_the_field(
        tab: Tab, keyed: Console, secret_box: SecretBox) -> None:
    with transaction(keyed.sessions) as session:
        add_spec(session, OPERATOR, {"name": "helpdesk", "kind": "imap", "address": "helpdesk@ours.example",
                                     "project": "Support", "host": "imap.ours.example", "user": "helpdesk",
                                     "password": PASSWORD}, secret_box)
    tab.sign_in(ADMIN)
    page = tab.page
    tab.open("/accounts")
    page.locator("#account-helpdesk").get_by_role("link", name="Copy").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Copy account helpdesk")
    page.get_by_label("Name of the copy").fill("support")
    page.get_by_role("button", name="Copy").click()
    expect(page.locator("#copy-name-error")).to_contain_text("account 'support' exists already")
    expect(page.get_by_label("Name of the copy")).to_have_value("support")  # what was typed is kept
    expect(page.get_by_label("Name of the copy")).to_have_attribute("aria-describedby", "copy-name-error")
    page.get_by_label("Name of the copy").fill("helpdesk-2")
    page.get_by_role("button", name="Copy").click()
    row = page.locator("#account-helpdesk-2")
    expect(row.get_by_role("status")).to_have_text("copied: inactive until activated")
    expect(row.locator(".state")).to_have_text("inactive")
    expect(page.locator("#account-helpdesk")).to_be_visible()
    assert PASSWORD not in page.content()

    original, copy = _account(keyed, "helpdesk"), _account(keyed, "helpdesk-2")
    assert original is not None and copy is not None and copy.active is False
    assert copy.sealed_secrets and PASSWORD not in copy.sealed_secrets  # sealed, opened with the same key
    assert spec_values(copy, secret_box) == spec_values(original, secret_box) | {"name": "helpdesk-2",
                                                                                   "active": False}
    # One active reader a mailbox: the copy reads helpdesk's, so activating it is refused in its row.
    row.get_by_role("button", name="Activate").click()
    expect(row.get_by_role("alert")).to_contain_text("the active account helpdesk reads already")
    expect(row.locator(".state")).to_have_text("inactive")
    assert _account(keyed, "helpdesk-2").active is False  # type: ignore[union-attr]
    assert tab.violations == []


def test_delete_says_what_goes_and_what_stays_and_cancel_keeps_the_account(tab: Tab, keyed: Console) -> None:
    add_account(keyed.sessions, "sales")
    number = keyed.customer_mail(account="sales")
    with transaction(keyed.sessions) as session:
        session.add(AccountHealth(account="sales", consecutive_failures=1))
    tab.sign_in(ADMIN)
    page = tab.page
    tab.open("/accounts")
    page.locator("#account-sales").get_by_role("link", name="Delete").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Delete account sales")
    expect(page.locator("ul.removed")).to_contain_text("account_health: 1")
    expect(page.locator("ul.kept")).to_contain_text("items: 1")
    page.get_by_role("link", name="Cancel").click()
    expect(page).to_have_url(f"{keyed.url}/accounts")
    expect(page.locator("#account-sales")).to_be_visible()
    assert _account(keyed, "sales") is not None

    page.locator("#account-sales").get_by_role("link", name="Delete").click()
    page.get_by_role("button", name="Delete sales").click()
    expect(page.get_by_role("status")).to_have_text("sales: deleted with its fetch state; its items and mails stay")
    expect(page.locator("#account-sales")).to_have_count(0)
    expect(page.locator("#account-support")).to_be_visible()
    assert _account(keyed, "sales") is None and _health(keyed, "sales") is None
    with keyed.sessions() as session:
        assert session.scalar(select(Item.account).where(Item.number == number)) == "sales"  # the item stays
    assert tab.violations == []


def test_an_account_a_fetcher_reads_now_is_not_deleted_and_the_page_says_how(tab: Tab, keyed: Console) -> None:
    with transaction(keyed.sessions) as session:
        session.add(FetcherLease(account="support", holder="fetcher-7", expires_at=datetime.now(UTC) + timedelta(minutes=5)))
    tab.sign_in(ADMIN)
    answer = tab.open("/accounts/support/delete")
    assert answer.status == 409
    expect(tab.page.get_by_role("alert")).to_contain_text("support is being read by fetcher fetcher-7")
    expect(tab.page.get_by_role("button", name="Delete support")).to_have_count(0)
    client, token = _signed_in(keyed, ADMIN)
    refused = client.post("/accounts/support/delete", data={"csrf": token})
    assert refused.status_code == 409 and "postroom accounts deactivate support" in refused.text
    assert _account(keyed, "support") is not None


def test_refresh_wakes_the_fetcher_for_the_account_and_the_row_says_so_without_a_reload(
        tab: Tab, keyed: Console) -> None:
    """The back-off ends, the failure streak is cleared and the account row changes (what makes the
    fetcher restart its reader at its next tick); only the row is swapped."""
    later = datetime.now(UTC) + timedelta(minutes=10)
    with transaction(keyed.sessions) as session:
        session.add(AccountHealth(account="support", consecutive_failures=4, next_attempt_at=later,
                                  last_error_kind="network", last_error="connection refused"))
    before = _account(keyed, "support").updated_at  # type: ignore[union-attr]
    tab.sign_in(ADMIN)
    page = tab.page
    tab.open("/accounts")
    row = page.locator("#account-support")
    expect(row.locator(".health")).to_contain_text("failures in a row: 4")
    page.evaluate("window.sameDocument = true")
    row.get_by_role("button", name="Refresh").click()
    expect(row.get_by_role("status")).to_contain_text("refresh asked")
    expect(row.locator(".health")).not_to_contain_text("failures in a row")
    assert page.evaluate("window.sameDocument") is True  # the row was swapped, not the page loaded
    health, account = _health(keyed, "support"), _account(keyed, "support")
    assert health is not None and health.consecutive_failures == 0 and health.next_attempt_at is None
    assert account is not None and account.updated_at > before
    assert tab.violations == []

    # A plain form post works too (post, redirect, the list), and an inactive account is not fetched.
    client, token = _signed_in(keyed, ADMIN)
    plain = client.post("/accounts/support/refresh", data={"csrf": token})
    assert plain.status_code == 303 and plain.headers["location"] == "/accounts?done=refreshed&account=support"
    assert "refresh asked" in client.get(plain.headers["location"]).text
    add_account(keyed.sessions, "paused", active=False)
    refused = client.post("/accounts/paused/refresh", data={"csrf": token})
    assert refused.status_code == 409 and "paused is inactive: activate it to fetch its mail" in refused.text


def test_the_health_cell_shows_the_backlog_and_the_token_expiry(tab: Tab, keyed: Console) -> None:
    started = datetime.now(UTC) - timedelta(minutes=10)
    consented = datetime(2026, 11, 20, tzinfo=UTC)
    google = {"provider": "google", "client_id": "x.apps.googleusercontent.com", "testing_mode": True}
    with transaction(keyed.sessions) as session:
        session.add(MailboxCursor(account="support", folder="INBOX", uidvalidity=7, last_uid=1300, imported=1300,
                                  backlog=3600, run_started_at=started, run_base=100,
                                  updated_at=started + timedelta(minutes=10)))
        session.add(Account(name="gmail", kind="gmail", address="g@ours.example", project="Support",
                            item_type="incident", config={"oauth": google}))
        session.add(Account(name="fresh", kind="gmail", address="f@ours.example", project="Support",
                            item_type="incident", config={"oauth": google}, active=False))
        session.add(OAuthToken(account="gmail", provider="google", flow="auth_code", state="ok",
                               refresh_issued_at=consented, consented_at=consented,
                               access_expires_at=consented + timedelta(hours=1)))
    tab.sign_in(ADMIN)
    tab.open("/accounts")
    page = tab.page
    expect(page.locator("#account-support .health")).to_contain_text(
        "backlog: 3600 to go, 1200 done (25.0%), 120/min, 30m00s left")
    # Google in testing mode: the sign-in lapses 7 days after consent.
    expect(page.locator("#account-gmail .health")).to_contain_text("token expires: 2026-11-27 00:00 UTC")
    expect(page.locator("#account-fresh .health")).to_contain_text("token expires: not signed in")
    expect(page.locator("#account-support .health")).not_to_contain_text("token expires")  # no token at all


def test_an_agent_cannot_refresh_copy_or_delete_an_account_even_with_a_good_token(keyed: Console) -> None:
    with transaction(keyed.sessions) as session:
        session.add(AccountHealth(account="support", consecutive_failures=2))
    before = _account(keyed, "support").updated_at  # type: ignore[union-attr]
    client, token = _signed_in(keyed, AGENT)
    for path, form in (("/accounts/support/refresh", {}), ("/accounts/support/copy", {"name": "mine"}),
                       ("/accounts/support/delete", {})):
        refused = client.post(path, data=form | {"csrf": token})
        assert refused.status_code == 403 and "needs the admin role" in refused.text, path
    for path in ("/accounts/support/copy", "/accounts/support/delete"):
        shown = client.get(path)
        assert shown.status_code == 403 and "support@ours.example" not in shown.text, path
    with keyed.sessions() as session:
        assert session.scalars(select(Account.name)).all() == ["support"]
        assert session.scalar(select(func.count()).select_from(AccountHealth)) == 1
    assert _health(keyed, "support").consecutive_failures == 2  # type: ignore[union-attr]
    assert _account(keyed, "support").updated_at == before  # type: ignore[union-attr]


@pytest.mark.parametrize("width", [(390, 844), (1280, 860)])
def test_the_accounts_copy_and_delete_pages_fit_a_phone_and_name_every_control(
        tab: Tab, keyed: Console, width: tuple[int, int]) -> None:
    page: Any = tab.page
    page.set_viewport_size({"width": width[0], "height": width[1]})
    tab.sign_in(ADMIN)
    for path in ("/accounts", "/accounts/support/copy", "/accounts/support/delete"):
        assert tab.open(path).status == 200, path
        assert page.evaluate(_PROBLEMS) == [], path
    with httpx.Client(base_url=keyed.url) as anonymous:
        assert anonymous.get("/accounts/support/copy").headers["location"] == "/sign-in"
