"""Google sign-in through google-auth against a fake token endpoint: the code exchange with PKCE,
refresh before expiry stored before use, and refusals (invalid_grant, the 7-day testing limit)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from urllib.parse import parse_qs, urlparse

import pytest
from structlog.testing import capture_logs

from shared.oauth.errors import AuthFailed
from shared.oauth.health import sweep, token_health
from shared import metrics
from tests.support.fake_google import google_tokens
from tests.support.oauth_world import GOOGLE, OAuthWorld


def connect(world: OAuthWorld, name: str = "gm", expires_in: int = 3600, now: datetime | None = None) -> None:
    auth = world.authenticators(name)
    url, state, verifier = auth.authorization_url("http://127.0.0.1:8765/")
    query = parse_qs(urlparse(url).query)
    assert query["access_type"] == ["offline"] and query["code_challenge_method"] == ["S256"]
    world.google.answer(google_tokens("ya29.first", refresh="1//refresh-first", expires_in=expires_in))
    grant = auth.exchange("4/code", "http://127.0.0.1:8765/", verifier)
    assert world.google.requests[-1]["code_verifier"] == [verifier]
    world.store.connected(name, "google", "installed", grant.cache, grant.expires_at, now or datetime.now(UTC))


def test_the_code_exchange_stores_a_refresh_token_and_the_access_token_is_used_until_near_expiry(
        world: OAuthWorld) -> None:
    world.add_account("gm", "gmail", GOOGLE, client_secret="gsecret")
    connect(world)
    assert world.provider.token("gm") == "ya29.first"
    assert len(world.google.requests) == 1


def test_an_access_token_near_expiry_is_refreshed_with_the_stored_refresh_token(world: OAuthWorld) -> None:
    world.add_account("gm", "gmail", GOOGLE, client_secret="gsecret")
    connect(world, expires_in=60)
    world.google.answer(google_tokens("ya29.second"))
    assert world.provider.token("gm") == "ya29.second"
    asked = world.google.requests[-1]
    assert asked["grant_type"] == ["refresh_token"] and asked["refresh_token"] == ["1//refresh-first"]
    assert asked["client_secret"] == ["gsecret"]
    assert world.provider.token("gm") == "ya29.second"  # stored: not asked again
    assert len(world.google.requests) == 2


def test_invalid_grant_puts_the_account_into_auth_failed_naming_the_testing_mode_limit(world: OAuthWorld) -> None:
    world.add_account("gm", "gmail", {**GOOGLE, "testing_mode": True}, client_secret="gsecret")
    connect(world, expires_in=60)
    world.google.answer({"error": "invalid_grant", "error_description": "Token has been expired or revoked."})
    with pytest.raises(AuthFailed, match="Testing"):
        world.provider.token("gm")
    assert world.store.load("gm").state == "auth_failed"
    assert metrics.AUTH_FAILED.labels("gm")._value.get() == 1
    with pytest.raises(AuthFailed):
        world.provider.token("gm")
    assert len(world.google.requests) == 2


def test_a_testing_mode_refresh_token_warns_days_before_its_seven_day_limit(world: OAuthWorld) -> None:
    """Five days after consent the sweep says two days are left: gauge and log event."""
    world.add_account("gm", "gmail", {**GOOGLE, "testing_mode": True}, client_secret="gsecret")
    consented = datetime.now(UTC) - timedelta(days=5)
    connect(world, now=consented)
    now = datetime.now(UTC)
    health = token_health(world.store.load("gm"), world.authenticators.configs()["gm"], "gm", now)
    assert health.refresh_lifetime_days == 7 and 4.9 < health.refresh_age_days < 5.1
    assert 1.9 < health.days_left(now) < 2.1
    with capture_logs() as logs:
        sweep(world.store, world.authenticators.configs(), now, warn_days=3)
    assert metrics.ACCOUNT_TOKEN_EXPIRY.labels("gm")._value.get() == pytest.approx((consented + timedelta(days=7)).timestamp())
    assert [e["days_left"] for e in logs if e["event"] == "oauth.token_expiring"] == [pytest.approx(2.0, abs=0.1)]


def test_a_published_app_has_no_warning_a_week_after_consent(world: OAuthWorld) -> None:
    world.add_account("gm", "gmail", GOOGLE, client_secret="gsecret")
    connect(world, now=datetime.now(UTC) - timedelta(days=8))
    with capture_logs() as logs:
        [health] = sweep(world.store, world.authenticators.configs(), datetime.now(UTC), warn_days=3)
    assert health.account == "gm" and health.state == "ok"
    assert not [e for e in logs if e["event"] == "oauth.token_expiring"]
