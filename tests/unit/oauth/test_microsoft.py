"""Microsoft sign-in through msal against a fake authority: device code, client credentials, refresh
stored before use, and each refusal turned into ``auth_failed`` with an actionable message."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from shared.oauth.errors import AuthFailed, TokenUnavailable
from shared import metrics
from tests.support.fake_authority import aad_error, tokens
from tests.support.oauth_world import MICROSOFT, OAuthWorld


def connect_by_device_code(world: OAuthWorld, name: str = "support") -> Any:
    auth = world.authenticators(name)
    flow, cache = auth.start_device_flow()
    grant = auth.finish_device_flow(flow, cache)
    world.store.connected(name, "microsoft", "device_code", grant.cache, grant.expires_at, datetime.now(UTC))
    return flow, grant


def test_device_code_sign_in_waits_for_the_user_then_stores_a_sealed_cache(world: OAuthWorld) -> None:
    """The device flow shows where to enter the code, polls through 'pending', and the cache is sealed."""
    world.add_account("support", "graph", MICROSOFT)
    world.authority.answer({"error": "authorization_pending"}, 400)
    world.authority.answer(tokens(access="at-first", refresh="rt-first"))
    flow, grant = connect_by_device_code(world)
    assert "ABCD-EFGH" in flow["message"]
    assert grant.access_token == "at-first"
    assert [r["grant_type"].rsplit(":", 1)[-1] for r in world.authority.token_requests] == ["device_code"] * 2
    record = world.store.load("support")
    assert record is not None and record.state == "ok" and record.consented_at is not None
    from shared.db.models import OAuthToken

    with world.sessions() as session:
        sealed = session.get(OAuthToken, "support").sealed_cache
    assert "rt-first" not in sealed and "at-first" not in sealed


def test_a_valid_access_token_comes_from_the_cache_without_asking_the_authority(world: OAuthWorld) -> None:
    """Until five minutes before expiry, the token endpoint is not asked."""
    world.add_account("support", "graph", MICROSOFT)
    world.authority.answer(tokens(access="at-first"))
    connect_by_device_code(world)
    assert world.provider.token("support") == "at-first"
    assert len(world.authority.token_requests) == 1


def test_a_token_near_expiry_is_refreshed_and_the_new_refresh_token_stored_before_use(world: OAuthWorld) -> None:
    """An access token with under five minutes left is refreshed; the rotated refresh token is stored."""
    world.add_account("support", "graph", MICROSOFT)
    world.authority.answer(tokens(access="at-first", refresh="rt-first", expires_in=120))
    connect_by_device_code(world)
    world.authority.answer(tokens(access="at-second", refresh="rt-second"))
    before = world.store.load("support")
    assert world.provider.token("support") == "at-second"
    assert world.authority.token_requests[-1]["grant_type"] == "refresh_token"
    assert world.authority.token_requests[-1]["refresh_token"] == "rt-first"
    after = world.store.load("support")
    assert "rt-second" in after.cache["msal"] and "rt-first" not in after.cache["msal"]
    assert after.access_expires_at > before.access_expires_at


def test_a_forced_refresh_after_a_401_asks_the_authority_even_for_a_fresh_token(world: OAuthWorld) -> None:
    world.add_account("support", "graph", MICROSOFT)
    world.authority.answer(tokens(access="at-first"))
    connect_by_device_code(world)
    world.authority.answer(tokens(access="at-second", refresh="rt-2"))
    assert world.provider.token("support", force=True) == "at-second"


def test_client_credentials_sign_in_app_only_with_the_sealed_client_secret(world: OAuthWorld) -> None:
    """App-only access (shared mailboxes) sends the client secret, asks for .default, keeps no refresh token."""
    world.add_account("shared", "graph", {**MICROSOFT, "flow": "client_credentials"}, client_secret="s3cret-value")
    world.authority.answer(tokens(access="at-app", refresh=None))
    grant = world.authenticators("shared").sign_in_app_only()
    world.store.connected("shared", "microsoft", "client_credentials", grant.cache, grant.expires_at,
                          datetime.now(UTC))
    request = world.authority.token_requests[-1]
    assert request["grant_type"] == "client_credentials" and request["client_secret"] == "s3cret-value"
    assert request["scope"].startswith("https://graph.microsoft.com/.default")
    assert world.provider.token("shared") == "at-app"
    assert len(world.authority.token_requests) == 1


@pytest.mark.parametrize(("error", "code", "words"), [
    ("invalid_grant", 50173, "password was changed or reset"),
    ("invalid_grant", 700082, "90 days unused"),
    ("invalid_grant", 65001, "consent"),
    ("unauthorized_client", 700016, "not registered or not authorised in this tenant"),
    ("invalid_grant", 70000, "revoked"),
])
def test_a_refused_refresh_puts_the_account_into_auth_failed_and_never_asks_again(
        world: OAuthWorld, error: str, code: int, words: str) -> None:
    """Each AADSTS refusal gives an actionable message, the auth_failed state and gauge, and no retry loop."""
    world.add_account("support", "graph", MICROSOFT)
    world.authority.answer(tokens(access="at-first", expires_in=60))
    connect_by_device_code(world)
    world.authority.answer(aad_error(error, code))
    with pytest.raises(AuthFailed, match=words) as caught:
        world.provider.token("support")
    assert f"AADSTS{code}" in str(caught.value)
    asked = len(world.authority.token_requests)
    record = world.store.load("support")
    assert record.state == "auth_failed" and words in record.last_error
    assert metrics.AUTH_FAILED.labels("support")._value.get() == 1
    with pytest.raises(AuthFailed):
        world.provider.token("support")
    assert len(world.authority.token_requests) == asked  # not asked again


def test_a_passing_outage_of_the_authority_is_not_auth_failed(world: OAuthWorld) -> None:
    """temporarily_unavailable means try later: the state stays ok, the error is noted."""
    world.add_account("support", "graph", MICROSOFT)
    world.authority.answer(tokens(access="at-first", expires_in=60))
    connect_by_device_code(world)
    world.authority.answer({"error": "temporarily_unavailable", "error_description": "busy"}, 400)
    with pytest.raises(TokenUnavailable):
        world.provider.token("support")
    record = world.store.load("support")
    assert record.state == "ok" and "temporarily_unavailable" in record.last_error


def test_reconnecting_clears_auth_failed(world: OAuthWorld) -> None:
    world.add_account("support", "graph", MICROSOFT)
    world.authority.answer(tokens(access="at-first", expires_in=60))
    connect_by_device_code(world)
    world.authority.answer(aad_error("invalid_grant", 50173))
    with pytest.raises(AuthFailed):
        world.provider.token("support")
    world.authority.answer(tokens(access="at-again"))
    connect_by_device_code(world)
    assert world.provider.token("support") == "at-again"
    assert metrics.AUTH_FAILED.labels("support")._value.get() == 0
