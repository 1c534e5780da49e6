"""What keeps the console safe, seen from a real Chromium: signing in and out, pages behind a session,
the accounts page for admins only, the Content-Security-Policy enforced with no violation from our
own pages, and a mail's markup shown as text, never run."""

from __future__ import annotations

from datetime import UTC, datetime

from playwright.sync_api import expect

from services.console.security import CSP, SESSION_COOKIE
from shared.db.engine import transaction
from shared.db.models import AccountHealth
from tests.console.conftest import ADMIN, AGENT, Tab
from tests.support.items import add_account


def test_a_person_who_is_not_signed_in_is_sent_to_the_sign_in_page_and_back_to_work_after(tab: Tab) -> None:
    number = tab.console.customer_mail()
    tab.open(f"/items/incident/{number}")
    expect(tab.page).to_have_url(f"{tab.console.url}/sign-in")
    tab.page.get_by_label("Email").fill(AGENT[0])
    tab.page.get_by_label("Password").fill("not the password")
    tab.page.get_by_role("button", name="Sign in").click()
    expect(tab.page.locator("#sign-in-error")).to_have_text("Wrong email or password.")
    expect(tab.page.get_by_label("Email")).to_have_value(AGENT[0])
    expect(tab.page.get_by_label("Password")).to_have_value("")
    tab.sign_in(AGENT)
    expect(tab.page).to_have_url(f"{tab.console.url}/items")
    expect(tab.page.locator("header")).to_contain_text("Ann Agent (agent)")


def test_the_session_cookie_is_http_only_and_strict_and_signing_out_ends_the_session(tab: Tab) -> None:
    tab.sign_in(AGENT)
    cookie = next(c for c in tab.page.context.cookies() if c["name"] == SESSION_COOKIE)
    assert cookie["httpOnly"] is True and cookie["sameSite"] == "Strict"
    assert cookie["secure"] is False  # the console runs on http://127.0.0.1 here
    assert tab.page.evaluate("document.cookie") == ""  # no script of the page can read it
    tab.page.get_by_role("button", name="Sign out").click()
    expect(tab.page).to_have_url(f"{tab.console.url}/sign-in")
    # The old token no longer opens anything, even when a browser sends it again.
    tab.page.context.add_cookies([{**cookie, "expires": -1}])  # type: ignore[typeddict-item]
    tab.open("/items")
    expect(tab.page).to_have_url(f"{tab.console.url}/sign-in")


def test_an_agent_gets_403_on_the_accounts_page_and_sees_no_link_to_it(tab: Tab) -> None:
    tab.sign_in(AGENT)
    expect(tab.page.get_by_role("navigation", name="Main")).not_to_contain_text("Accounts")
    answer = tab.open("/accounts")
    assert answer.status == 403
    expect(tab.page.get_by_role("alert")).to_contain_text("needs the admin role")
    expect(tab.page.get_by_role("button", name="Sign out")).to_be_visible()  # still signed in, told why
    assert "support@ours.example" not in tab.page.content()


def test_an_admin_sees_the_accounts_with_their_health_and_deactivates_and_activates_one(tab: Tab) -> None:
    add_account(tab.console.sessions, "sales")
    with transaction(tab.console.sessions) as session:
        session.add(AccountHealth(account="sales", last_error_kind="auth", last_error="LOGIN refused: bad password",
                                  last_error_at=datetime(2026, 12, 1, 8, 0, tzinfo=UTC), consecutive_failures=3))
    tab.sign_in(ADMIN)
    tab.page.get_by_role("navigation", name="Main").get_by_role("link", name="Accounts").click()
    expect(tab.page.locator("#account-sales .health")).to_contain_text(
        "last error (auth, 2026-12-01 08:00 UTC): LOGIN refused: bad password")
    expect(tab.page.locator("#account-sales .health")).to_contain_text("failures in a row: 3")
    row = tab.page.locator("#account-support")
    expect(row).to_contain_text("support@ours.example")
    expect(row.locator(".health")).to_contain_text("not fetched yet")
    expect(row.locator(".state")).to_have_text("active")
    row.get_by_role("button", name="Deactivate").click()
    expect(row.locator(".state")).to_have_text("inactive")
    row.get_by_role("button", name="Activate").click()
    expect(row.locator(".state")).to_have_text("active")


def test_the_page_sends_a_csp_header_and_runs_no_inline_script(tab: Tab) -> None:
    """The pages work (htmx from our origin runs) with no violation; markup in a customer's mail is
    shown as text; and the browser does enforce the policy: an inline script is blocked and reported."""
    number = tab.console.customer_mail(subject='<script>document.title="pwned"</script>Help',
                                       text='<img src=x onerror="document.title=\'pwned\'"> it broke')
    answer = tab.open("/sign-in")
    assert answer.headers["content-security-policy"] == CSP
    tab.sign_in(AGENT)
    page = tab.page
    answer = tab.open(f"/items/incident/{number}")
    assert answer.headers["content-security-policy"] == CSP and "default-src 'none'" in CSP
    assert answer.headers["x-frame-options"] == "DENY"
    expect(page.get_by_role("heading", level=1)).to_contain_text('<script>document.title="pwned"</script>Help')
    expect(page.locator("#mails pre.text")).to_contain_text("<img src=x onerror=")
    assert page.evaluate("typeof htmx") == "object"
    page.get_by_label("Status").select_option("open")  # an htmx request and swap, under the policy
    page.get_by_role("button", name="Save").click()
    expect(page.locator("#item-status")).to_have_text("open")
    page.wait_for_load_state("networkidle")
    assert page.title() != "pwned" and tab.violations == []
    with page.expect_console_message(lambda m: m.text.startswith("CSP violation")):
        ran = page.evaluate("""() => { const s = document.createElement("script");
                                       s.textContent = "window.ranInline = true"; document.body.append(s);
                                       return window.ranInline === true; }""")
    assert ran is False and any("script-src" in v for v in tab.violations)
