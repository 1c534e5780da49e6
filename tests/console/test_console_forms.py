"""The console's forms and headers over plain HTTP (httpx against the served console): CSRF tokens,
the sign-in rate limit shared with the API, cookies, sign-in required everywhere, and the page policy
kept apart from the API's JSON headers."""

from __future__ import annotations

import re

import httpx
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from services.api.bootstrap import build
from services.api.settings import ApiSettings
from services.console.security import CSP, SESSION_COOKIE, SIGN_IN_COOKIE
from shared.db.models import Account, Item
from tests.console.conftest import ADMIN, AGENT, Console
from tests.support.items import add_account


def _token(page: str) -> str:
    found = re.search(r'name="csrf" value="([^"]+)"', page)
    assert found, "the page has no CSRF field"
    return found.group(1)


def _signed_in(console: Console, who: tuple[str, str]) -> tuple[httpx.Client, str]:
    """A client holding a session cookie, and the session's CSRF token from a page."""
    client = httpx.Client(base_url=console.url)
    form = client.get("/sign-in")
    answer = client.post("/sign-in", data={"email": who[0], "password": who[1], "csrf": _token(form.text)})
    assert answer.status_code == 303 and SESSION_COOKIE in client.cookies
    return client, _token(client.get("/items").text)


def _status(console: Console, number: int) -> str:
    with console.sessions() as session:
        return session.scalars(select(Item.status).where(Item.number == number)).one()


def test_a_form_posted_without_the_csrf_token_is_refused_and_changes_nothing(console: Console) -> None:
    number = console.customer_mail()
    client, token = _signed_in(console, AGENT)
    form = {"status": "open", "shown_status": "new", "step": "", "shown_step": "", "assignee": "",
            "shown_assignee": ""}
    path = f"/items/incident/{number}/edit"
    for refused in (client.post(path, data=form), client.post(path, data=form | {"csrf": "made-up"}),
                    client.post(path, data=form | {"csrf": ""}, headers={"X-CSRF-Token": token[:-2] + "xx"})):
        assert refused.status_code == 403 and "did not come from this console" in refused.text
        assert refused.headers["content-security-policy"] == CSP
    assert _status(console, number) == "new"
    assert client.post(path, data=form | {"csrf": token}).status_code == 303
    assert _status(console, number) == "open"
    # htmx sends the token as a header: that works too.
    assert client.post(path, data=form | {"status": "waiting", "shown_status": "open"},
                       headers={"X-CSRF-Token": token}).status_code == 303
    assert _status(console, number) == "waiting"


def test_one_sessions_token_does_not_pass_for_another_session(console: Console) -> None:
    number = console.customer_mail()
    _, agents_token = _signed_in(console, AGENT)
    admin, _ = _signed_in(console, ADMIN)
    answer = admin.post(f"/items/incident/{number}/watchers", data={"address": "x@team.example",
                                                                    "csrf": agents_token})
    assert answer.status_code == 403
    with console.sessions() as session:
        assert session.scalars(select(Account.active)).one() is True
    assert admin.post("/accounts/support/deactivate", data={"csrf": agents_token}).status_code == 403


def test_an_agent_cannot_turn_an_account_off_even_with_a_good_token(console: Console) -> None:
    client, token = _signed_in(console, AGENT)
    refused = client.post("/accounts/support/deactivate", data={"csrf": token})
    assert refused.status_code == 403 and "needs the admin role" in refused.text
    with console.sessions() as session:
        assert session.scalars(select(Account.active)).one() is True
    admin, admins_token = _signed_in(console, ADMIN)
    assert admin.post("/accounts/support/deactivate", data={"csrf": admins_token}).status_code == 303
    with console.sessions() as session:
        assert session.scalars(select(Account.active)).one() is False
    assert admin.get("/sign-in").headers["location"] == "/"  # signed in already


def test_an_account_not_signed_in_yet_is_not_activated_and_the_page_says_why(console: Console) -> None:
    add_account(console.sessions, "m365", kind="graph", active=False,
                config={"oauth": {"provider": "microsoft", "client_id": "app-id"}})
    admin, token = _signed_in(console, ADMIN)
    answer = admin.post("/accounts/m365/activate", data={"csrf": token})
    assert answer.status_code == 409 and "m365 is not signed in yet" in answer.text
    assert 'id="account-support"' in answer.text  # the accounts page, with the problem on it
    with console.sessions() as session:
        assert session.scalar(select(Account.active).where(Account.name == "m365")) is False


def test_the_sign_in_form_needs_its_own_token_so_no_other_site_can_sign_a_browser_in(console: Console) -> None:
    client = httpx.Client(base_url=console.url)
    assert client.post("/sign-in", data={"email": AGENT[0], "password": AGENT[1]}).status_code == 403
    form = client.get("/sign-in")
    assert SIGN_IN_COOKIE in client.cookies
    elsewhere = httpx.Client(base_url=console.url)  # a token without the cookie it is bound to
    assert elsewhere.post("/sign-in", data={"email": AGENT[0], "password": AGENT[1],
                                            "csrf": _token(form.text)}).status_code == 403
    assert SESSION_COOKIE not in elsewhere.cookies
    assert client.post("/sign-in", data={"email": AGENT[0], "password": AGENT[1],
                                         "csrf": _token(form.text)}).status_code == 303


def test_sign_in_failures_are_counted_with_the_apis_and_limited_alike(console: Console) -> None:
    client = httpx.Client(base_url=console.url)
    for _ in range(4):
        assert client.post("/api/v1/session", json={"email": AGENT[0], "password": "guess"}).status_code == 401
    form = client.get("/sign-in")
    wrong = client.post("/sign-in", data={"email": AGENT[0], "password": "guess", "csrf": _token(form.text)})
    assert wrong.status_code == 401 and "Wrong email or password." in wrong.text
    limited = client.post("/sign-in", data={"email": AGENT[0], "password": AGENT[1], "csrf": _token(wrong.text)})
    assert limited.status_code == 429 and int(limited.headers["Retry-After"]) > 0
    assert "Too many failed sign-ins" in limited.text and SESSION_COOKIE not in client.cookies
    assert client.post("/api/v1/session", json={"email": AGENT[0], "password": AGENT[1]}).status_code == 429


@pytest.mark.parametrize("path", ["/", "/items", "/items/incident/1", "/items/incident/1/replies",
                                  "/items/incident/1/attachments/1", "/accounts"])
def test_every_page_but_sign_in_sends_a_visitor_without_a_session_to_sign_in(console: Console, path: str) -> None:
    console.customer_mail()
    for cookies in ({}, {SESSION_COOKIE: "prt_not-a-real-session"}):
        answer = httpx.get(console.url + path, cookies=cookies)
        assert answer.status_code == 303 and answer.headers["location"] == "/sign-in", (path, cookies)
    from_htmx = httpx.get(console.url + path, headers={"HX-Request": "true"})
    assert from_htmx.headers["HX-Redirect"] == "/sign-in"


def test_pages_carry_the_page_policy_and_the_apis_json_keeps_its_own(console: Console) -> None:
    page = httpx.get(console.url + "/sign-in")
    assert page.headers["content-security-policy"] == CSP and page.headers["x-content-type-options"] == "nosniff"
    api = httpx.get(console.url + "/api/v1/me")
    assert api.status_code == 401 and api.headers["content-security-policy"] == "default-src 'none'; frame-ancestors 'none'"
    assert httpx.get(console.url + "/static/htmx.min.js").headers["content-type"].startswith("text/javascript")
    paths = httpx.get(console.url + "/api/v1/openapi.json").json()["paths"]
    assert paths and all(p.startswith("/api/v1/") for p in paths), "console pages stay out of the API's document"


def test_the_session_cookie_is_secure_when_the_console_is_reached_over_https(console: Console) -> None:
    settings = ApiSettings(database_url=console.settings.database_url, amqp_url=console.settings.amqp_url,
                           broker_namespace=console.settings.broker_namespace, var_dir=console.settings.var_dir,
                           api_public_url="https://postroom.example", token_secret=console.settings.token_secret)
    assert settings.secure_cookie and not console.settings.secure_cookie
    assert ApiSettings(api_public_url="http://localhost:8080", dev_mode=True).secure_cookie is False
    assert ApiSettings(api_host="0.0.0.0", dev_mode=True).secure_cookie is True
    with TestClient(build(settings, console.service.broker).app, base_url="https://postroom.example") as client:
        form = client.get("/sign-in")
        answer = client.post("/sign-in", data={"email": AGENT[0], "password": AGENT[1], "csrf": _token(form.text)},
                             follow_redirects=False)
    cookie = next(v for k, v in answer.headers.multi_items() if k == "set-cookie" and v.startswith(SESSION_COOKIE))
    assert "HttpOnly" in cookie and "SameSite=strict" in cookie and "Secure" in cookie
