"""Signing an OAuth account in from the console: the browser goes to the (fake) provider's consent
page and comes back to the console's callback, which stores the tokens sealed and shows their expiry.
The fake Microsoft authority is served over HTTPS with a throw-away CA (the browser is told to accept
it; the console's msal trusts it through REQUESTS_CA_BUNDLE), Google's over plain HTTP."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from shared.oauth.store import TokenStore
from playwright.sync_api import expect

from tests.console.conftest import ADMIN, AGENT, Console, Tab
from tests.support.fake_authority import tokens
from tests.support.fake_google import google_tokens
from tests.support.oauth_cli import OAuthCli, oauth_cli  # noqa: F401

_WATCH_CSP = """document.addEventListener("securitypolicyviolation", (e) => {
  console.error("CSP violation: " + e.violatedDirective + " " + e.blockedURI);
});"""


@pytest.fixture
def keyed(console: Console, secret_key: str) -> Console:
    """The console seals with the key the tokens of the accounts are sealed with."""
    (Path(console.settings.var_dir) / "secret.key").write_text(secret_key)
    return console


@pytest.fixture
def tab(browser: Any, keyed: Console) -> Iterator[Tab]:
    context = browser.new_context(ignore_https_errors=True)  # the fake authority's throw-away certificate
    context.set_default_timeout(15_000)
    page = context.new_page()
    page.add_init_script(_WATCH_CSP)
    opened = Tab(page, keyed)
    page.on("console", lambda m: opened.violations.append(m.text) if "CSP violation" in m.text
            or "Content Security Policy" in m.text else None)
    yield opened
    context.close()


def _stored(oauth_cli: OAuthCli, name: str) -> Any:
    return TokenStore(oauth_cli.sessions, oauth_cli.box).load(name)


def _another_site(address: str) -> str:
    """The provider on another site than the console (127.0.0.1), as it is for real: coming back from
    its consent page, the browser leaves the console's SameSite=Strict session cookie off."""
    return address.replace("//127.0.0.1:", "//localhost:")


def _signed_in(tab: Tab, oauth_cli: OAuthCli, name: str, provider: str) -> str:
    sent: list[str] = []  # the cookies the redirect back carried
    tab.page.on("request", lambda r: sent.append(r.all_headers().get("cookie", "")) if "/oauth/callback" in r.url
                else None)
    tab.sign_in(ADMIN)
    tab.open("/accounts")  # the sign-in is offered where there is one to make
    expect(tab.page.locator("#account-support").get_by_role("link", name="sign-in")).to_have_count(0)
    tab.page.locator(f"#account-{name}").get_by_role("link", name="sign-in").click()
    expect(tab.page).to_have_url(f"{tab.console.url}/accounts/{name}/sign-in")
    assert "not signed in" in tab.page.locator("#token-state").inner_text()
    tab.page.get_by_role("button", name=f"Sign in with {provider}").click()
    tab.page.get_by_role("link", name="Accept").click()  # the provider's consent page
    tab.page.locator("#signed-in").wait_for()
    assert [sorted(c.split("=")[0] for c in cookies.split("; ")) for cookies in sent] == [["postroom_oauth"]]
    return str(tab.page.locator("main").inner_text())


def test_an_admin_signs_a_microsoft_account_in_from_the_console_and_sees_when_its_token_expires(
        tab: Tab, oauth_cli: OAuthCli) -> None:
    """Authorization code with PKCE: consent at Microsoft, back at the console, tokens stored sealed."""
    oauth_cli.authority.host, oauth_cli.authority.consent_page = _another_site(oauth_cli.authority.host), True
    oauth_cli.add("m365", "graph", {**oauth_cli.microsoft, "flow": "auth_code"})
    oauth_cli.authority.answer(tokens(access="at-console-1", refresh="rt-console-1", user="m365@contoso.example"))
    shown = _signed_in(tab, oauth_cli, "m365", "Microsoft")
    record = _stored(oauth_cli, "m365")
    assert record is not None and record.state == "ok" and record.flow == "auth_code" and "msal" in record.cache
    expiry = record.access_expires_at.strftime("%Y-%m-%d %H:%M UTC")
    assert f"Signed in with Microsoft: m365 is connected; its access token is valid until {expiry}" in shown
    assert f"access token valid until {expiry}" in tab.page.locator("#token-state").inner_text()
    assert "at-console-1" not in tab.page.content() and "rt-console-1" not in tab.page.content()
    asked = oauth_cli.authority.authorize_requests[-1]
    assert asked["redirect_uri"] == tab.console.url + "/oauth/callback" and asked["code_challenge_method"] == "S256"
    assert asked["login_hint"] == "m365@contoso.example"
    exchanged = oauth_cli.authority.token_requests[-1]
    assert exchanged["grant_type"] == "authorization_code" and exchanged["code_verifier"]
    assert [c for c in tab.page.context.cookies() if c["name"] == "postroom_oauth"] == []  # one-shot
    tab.page.get_by_role("link", name="Accounts").first.click()  # the session goes on after the round trip
    tab.page.locator("#account-m365").wait_for()
    assert tab.violations == []


def test_an_admin_signs_a_google_account_in_from_the_console_and_sees_when_its_token_expires(
        tab: Tab, oauth_cli: OAuthCli) -> None:
    """The web-server flow with PKCE: the fake grants the code only to the sign-in's own verifier."""
    google, oauth_cli.google.consent_page = oauth_cli.google_oauth, True
    oauth_cli.add("gmail", "gmail", google | {"auth_uri": _another_site(google["auth_uri"])}, client_secret="GOCSPX-s3cret")
    oauth_cli.google.answer(google_tokens(access="ya29.console", refresh="1//rt-console", expires_in=1800))
    shown = _signed_in(tab, oauth_cli, "gmail", "Google")
    record = _stored(oauth_cli, "gmail")
    assert record is not None and record.state == "ok" and record.cache["google"]["refresh_token"] == "1//rt-console"
    expiry = record.access_expires_at.strftime("%Y-%m-%d %H:%M UTC")
    assert f"Signed in with Google: gmail is connected; its access token is valid until {expiry}" in shown
    assert "ya29.console" not in tab.page.content() and "GOCSPX-s3cret" not in tab.page.content()
    asked = oauth_cli.google.authorize_requests[-1]
    assert asked["redirect_uri"] == tab.console.url + "/oauth/callback" and asked["access_type"] == "offline"
    exchanged = oauth_cli.google.requests[-1]
    assert exchanged["grant_type"] == ["authorization_code"] and exchanged["code_verifier"]
    assert tab.violations == []


def test_a_declined_consent_is_shown_with_its_reason_and_stores_nothing(tab: Tab, oauth_cli: OAuthCli) -> None:
    oauth_cli.add("gmail", "gmail", oauth_cli.google_oauth)
    oauth_cli.google.consent = False
    tab.sign_in(ADMIN)
    tab.open("/accounts/gmail/sign-in")
    tab.page.get_by_role("button", name="Sign in with Google").click()
    tab.page.get_by_role("alert").wait_for()
    assert "access was denied" in tab.page.get_by_role("alert").inner_text()
    assert "not signed in" in tab.page.locator("#token-state").inner_text()
    assert _stored(oauth_cli, "gmail") is None and oauth_cli.google.requests == []


def test_a_redirect_back_with_another_sign_ins_state_stores_nothing(tab: Tab, oauth_cli: OAuthCli) -> None:
    """The provider's answer to some other sign-in (a code an attacker got for their own) is refused."""
    oauth_cli.add("gmail", "gmail", oauth_cli.google_oauth)
    oauth_cli.google.state_back = "not-this-one"
    oauth_cli.google.answer(google_tokens(access="ya29.stray", refresh="1//rt-stray"))
    tab.sign_in(ADMIN)
    tab.open("/accounts/gmail/sign-in")
    tab.page.get_by_role("button", name="Sign in with Google").click()
    tab.page.get_by_role("alert").wait_for()
    assert "another sign-in" in tab.page.get_by_role("alert").inner_text()
    assert _stored(oauth_cli, "gmail") is None and oauth_cli.google.requests == []


def test_the_callback_without_a_sign_in_started_in_this_browser_is_refused(tab: Tab, oauth_cli: OAuthCli) -> None:
    tab.sign_in(ADMIN)
    answer = tab.open("/oauth/callback?code=4/0A-stolen&state=guessed")
    assert answer.status == 422 and "No sign-in was started in this browser" in tab.page.get_by_role("alert").inner_text()


def test_only_an_admin_signs_accounts_in_and_only_with_the_forms_token(tab: Tab, oauth_cli: OAuthCli) -> None:
    oauth_cli.add("gmail", "gmail", oauth_cli.google_oauth)
    tab.sign_in(AGENT)
    assert tab.open("/accounts/gmail/sign-in").status == 403
    session = {c["name"]: c["value"] for c in tab.page.context.cookies()}
    posted = httpx.post(tab.console.url + "/accounts/gmail/sign-in", cookies=session, follow_redirects=False)
    assert posted.status_code == 403 and oauth_cli.google.authorize_requests == []
    assert httpx.get(tab.console.url + "/accounts/gmail/sign-in", follow_redirects=False).headers["location"] == "/sign-in"
