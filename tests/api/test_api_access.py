"""Who may call what: no endpoint answers without a valid token, agents work items but do not manage
accounts or users, tokens are kept hashed, sign-in is rate limited, secrets never come back."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select, text

from shared.db.models import ApiToken, User
from tests.api.conftest import ADMIN, AGENT, Api

PUBLIC = {("POST", "/api/v1/session")}


def _routes(api: Api) -> list[tuple[str, str]]:
    spec = api.service.app.openapi()
    return [(method.upper(), re.sub(r"\{[^}]+\}", "1", path)) for path, ops in spec["paths"].items() for method in ops]


def test_every_endpoint_answers_401_alike_without_a_token_and_with_a_wrong_one(api: Api) -> None:
    routes = [r for r in _routes(api) if (r[0], r[1]) not in PUBLIC]
    assert len(routes) >= 15
    for method, path in routes:
        missing = api.client.request(method, path)
        wrong = api.client.request(method, path, headers={"Authorization": "Bearer prt_not-a-real-token"})
        garbage = api.client.request(method, path, headers={"Authorization": "Basic cm9vdDpyb290"})
        assert missing.status_code == wrong.status_code == garbage.status_code == 401, (method, path)
        assert missing.json() == wrong.json() == garbage.json(), (method, path)
        assert missing.headers["WWW-Authenticate"] == "Bearer"


@pytest.mark.parametrize("method,path", [("GET", "/api/v1/accounts"), ("POST", "/api/v1/accounts/support/deactivate"),
                                         ("GET", "/api/v1/users"), ("POST", "/api/v1/users/root@ours.example/disable")])
def test_an_agent_cannot_manage_accounts_or_users_and_an_admin_can(api: Api, agent: dict[str, str],
                                                                   admin: dict[str, str], method: str, path: str) -> None:
    refused = api.client.request(method, path, headers=agent)
    assert refused.status_code == 403 and refused.json()["error"] == "forbidden"
    assert api.client.request(method, path, headers=admin).status_code == 200


def test_an_admin_adds_a_user_who_then_signs_in_as_an_agent(api: Api, admin: dict[str, str]) -> None:
    added = api.client.post("/api/v1/users", headers=admin, json={"email": "Bob@Ours.example", "name": "Bob",
                                                                  "role": "agent", "password": "a long password"})
    assert added.status_code == 201 and added.json()["email"] == "bob@ours.example"
    assert "password" not in added.text and "argon2" not in added.text
    me = api.client.get("/api/v1/me", headers=api.sign_in("bob@ours.example", "a long password"))
    assert me.json() == {"email": "bob@ours.example", "name": "Bob", "role": "agent"}
    with api.sessions() as session:
        stored = session.scalar(select(User.password_hash).where(User.email == "bob@ours.example"))
    assert stored is not None and stored.startswith("$argon2id$") and "a long password" not in stored


def test_a_short_password_is_refused_naming_the_field(api: Api, admin: dict[str, str]) -> None:
    answer = api.client.post("/api/v1/users", headers=admin, json={"email": "c@ours.example", "password": "short"})
    assert answer.status_code == 422 and answer.json()["field"] == "password"
    assert "short" not in answer.json()["message"]


def test_an_api_token_is_shown_once_stored_hashed_works_and_stops_when_revoked(api: Api, agent: dict[str, str]) -> None:
    made = api.client.post("/api/v1/tokens", headers=agent, json={"name": "nightly export"})
    assert made.status_code == 201
    secret = made.json()["token"]
    with api.sessions() as session:
        rows = list(session.execute(text("SELECT * FROM api_tokens")))
    assert rows and all(secret not in " ".join(map(str, row)) for row in rows)
    with api.sessions() as session:
        assert session.scalar(select(ApiToken.digest).where(ApiToken.id == made.json()["id"])) != secret
    bearer = {"Authorization": f"Bearer {secret}"}
    assert api.client.get("/api/v1/me", headers=bearer).json()["email"] == AGENT[0]
    listed = api.client.get("/api/v1/tokens", headers=agent).json()
    assert [t["name"] for t in listed] == ["nightly export"] and secret not in str(listed)
    assert api.client.delete(f"/api/v1/tokens/{made.json()['id']}", headers=agent).json()["revoked"] is True
    assert api.client.get("/api/v1/me", headers=bearer).status_code == 401


def test_an_agent_cannot_see_or_revoke_someone_elses_token(api: Api, admin: dict[str, str],
                                                           agent: dict[str, str]) -> None:
    made = api.client.post("/api/v1/tokens", headers=admin, json={"name": "root's"}).json()
    assert api.client.delete(f"/api/v1/tokens/{made['id']}", headers=agent).status_code == 403
    assert api.client.get("/api/v1/tokens", headers=agent).json() == []
    assert api.client.get(f"/api/v1/tokens?user={ADMIN[0]}", headers=agent).status_code == 403


def test_sign_in_is_refused_after_five_failures_even_with_the_right_password(api: Api) -> None:
    for _ in range(5):
        wrong = api.client.post("/api/v1/session", json={"email": AGENT[0], "password": "guess"})
        assert wrong.status_code == 401 and wrong.json()["message"] == "wrong email or password"
    unknown = api.client.post("/api/v1/session", json={"email": "nobody@ours.example", "password": "guess"})
    limited = api.client.post("/api/v1/session", json={"email": AGENT[0], "password": AGENT[1]})
    assert unknown.status_code == 429 and limited.status_code == 429 and int(limited.headers["Retry-After"]) > 0


def test_a_wrong_address_and_a_wrong_password_get_the_same_answer(api: Api) -> None:
    unknown = api.client.post("/api/v1/session", json={"email": "nobody@ours.example", "password": AGENT[1]})
    wrong = api.client.post("/api/v1/session", json={"email": AGENT[0], "password": "not it"})
    assert unknown.status_code == wrong.status_code == 401 and unknown.json() == wrong.json()


def test_signing_out_and_disabling_a_user_end_their_sessions(api: Api, admin: dict[str, str]) -> None:
    session = api.sign_in(*AGENT)
    assert api.client.delete("/api/v1/session", headers=session).status_code == 204
    assert api.client.get("/api/v1/me", headers=session).status_code == 401
    again = api.sign_in(*AGENT)
    assert api.client.post(f"/api/v1/users/{AGENT[0]}/disable", headers=admin).status_code == 200
    assert api.client.get("/api/v1/me", headers=again).status_code == 401
    assert api.client.post("/api/v1/session", json={"email": AGENT[0], "password": AGENT[1]}).status_code == 401


def test_a_body_with_a_misspelt_key_is_refused_and_never_echoed(api: Api, agent: dict[str, str]) -> None:
    answer = api.client.post("/api/v1/session", json={"email": AGENT[0], "pasword": "secret-value-xyz"})
    assert answer.status_code == 422 and "secret-value-xyz" not in answer.text


def test_accounts_are_listed_without_their_secrets(api: Api, admin: dict[str, str]) -> None:
    from sqlalchemy import update

    from shared.db.models import Account

    with api.sessions() as session, session.begin():
        session.execute(update(Account).values(sealed_secrets="sealed-blob-never-shown"))
    listed = api.client.get("/api/v1/accounts", headers=admin)
    assert listed.json()[0]["name"] == "support" and listed.json()[0]["has_secrets"] is True
    assert "sealed-blob-never-shown" not in listed.text


def test_the_openapi_document_and_json_errors(api: Api, agent: dict[str, str]) -> None:
    spec = api.client.get("/api/v1/openapi.json")
    assert spec.status_code == 200 and "/api/v1/items" in spec.json()["paths"]
    missing = api.client.get("/api/v1/items/incident/999", headers=agent)
    assert missing.status_code == 404 and missing.json() == {"error": "not-found", "message": "no incident #999"}
    assert missing.headers["X-Content-Type-Options"] == "nosniff"
    assert missing.headers["Content-Security-Policy"].startswith("default-src 'none'")
