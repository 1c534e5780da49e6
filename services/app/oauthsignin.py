"""Signing an OAuth account in from a browser that comes back to a web address (the console's): the
authorization code flow with PKCE, started here and finished when the provider redirects back. What
``start`` returns to keep holds the PKCE verifier: the caller keeps it where only this sign-in can
read it (sealed), and hands it back to ``finish`` with the redirect's query. The tokens are stored as
``postroom accounts connect`` stores them (sealed, shared/oauth/store.py)."""

from __future__ import annotations

import hmac
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit

from sqlalchemy.orm import Session, sessionmaker

from services.app.accounts import wake
from services.app.actors import Actor
from services.app.errors import Conflict, Invalid, NotFound
from shared.accounts.edit import find_account
from shared.db.engine import transaction
from shared.oauth.accounts import AccountAuthenticators, oauth_config_of
from shared.oauth.config import OAuthConfig
from shared.oauth.errors import AuthFailed, TokenUnavailable, google_failure, microsoft_failure
from shared.oauth.google import GoogleAuth
from shared.oauth.microsoft import MicrosoftAuth
from shared.oauth.store import TokenStore
from shared.secrets import SecretBox, SecretsUnavailable

PROVIDER_NAMES = {"microsoft": "Microsoft", "google": "Google"}


def _config(sessions: sessionmaker[Session], name: str) -> OAuthConfig | None:
    with transaction(sessions) as session:
        account = find_account(session, name)
        if account is None:
            raise NotFound(f"unknown account {name!r}")
        return oauth_config_of(dict(account.config or {}))


def _why_not(config: OAuthConfig | None) -> str | None:
    """Why this account has no browser sign-in (None: it has one)."""
    if config is None:
        return "this account does not sign in with OAuth (it has no oauth: block)"
    if config.resolved_flow == "client_credentials":
        return ("this account signs in app-only (client credentials): there is no person to consent; "
                "connect it with `postroom accounts connect`")
    return None


def authorize_origin(config: OAuthConfig) -> str:
    """Where the browser is sent to consent (a page's form-action must allow it)."""
    address = config.authority_host if config.provider == "microsoft" else config.auth_uri
    parts = urlsplit(address)
    return f"{parts.scheme}://{parts.netloc}"


def sign_in_state(sessions: sessionmaker[Session], actor: Actor, box: SecretBox, name: str) -> dict[str, Any]:
    """The account's OAuth setup and stored sign-in, as the page shows it (never a token)."""
    actor.require_admin("signing accounts in")
    config = _config(sessions, name)
    record = TokenStore(sessions, box).load(name) if config is not None else None
    return {"account": name, "provider": config.provider if config else None,
            "provider_name": PROVIDER_NAMES.get(config.provider, "") if config else "",
            "flow": config.resolved_flow if config else None, "why_not": _why_not(config),
            "authorize_origin": authorize_origin(config) if config else None,
            "signed_in": None if record is None else {
                "state": record.state, "flow": record.flow, "consented_at": _iso(record.consented_at),
                "access_expires_at": _iso(record.access_expires_at), "last_error": record.last_error}}


def _iso(when: datetime | None) -> str | None:
    return when.isoformat() if when else None


def _authenticator(sessions: sessionmaker[Session], box: SecretBox, name: str) -> Any:
    try:
        return AccountAuthenticators(sessions, box)(name)
    except SecretsUnavailable as exc:
        raise Conflict(f"{name}: {exc}") from None
    except AuthFailed as exc:
        raise Invalid(str(exc)) from None


def start(sessions: sessionmaker[Session], actor: Actor, box: SecretBox, name: str,
          redirect_uri: str) -> tuple[str, dict[str, Any]]:
    """(where to send the browser, what to keep until it comes back to ``redirect_uri``)."""
    actor.require_admin("signing accounts in")
    why_not = _why_not(_config(sessions, name))
    if why_not:
        raise Conflict(f"{name}: {why_not}")
    auth = _authenticator(sessions, box, name)
    kept: dict[str, Any] = {"account": name, "redirect_uri": redirect_uri}
    try:
        if isinstance(auth, MicrosoftAuth):
            flow, _ = auth.start_auth_code_flow(redirect_uri)
            # The flow holds the state, nonce and PKCE verifier msal checks at the end; its address is not needed.
            kept |= {"provider": "microsoft", "state": flow["state"],
                     "flow": {k: v for k, v in flow.items() if k != "auth_uri"}}
            return str(flow["auth_uri"]), kept
        assert isinstance(auth, GoogleAuth)
        url, state, verifier = auth.authorization_url(redirect_uri)
        return url, kept | {"provider": "google", "state": state, "verifier": verifier}
    except (AuthFailed, TokenUnavailable) as exc:
        raise Conflict(f"{name}: {exc}") from None


def finish(sessions: sessionmaker[Session], actor: Actor, box: SecretBox, kept: dict[str, Any],
           response: dict[str, str]) -> dict[str, Any]:
    """Exchange the code the browser came back with (``response``: the redirect's query) for tokens,
    store them sealed, and have the fetcher try the account now. A response whose state is not this
    sign-in's, a refusal, or a code the provider does not grant stores nothing."""
    actor.require_admin("signing accounts in")
    name, provider = str(kept["account"]), str(kept["provider"])
    if not hmac.compare_digest(str(response.get("state", "")), str(kept["state"])):
        raise Invalid("the browser came back from another sign-in (its state differs): start again")
    config = _config(sessions, name)
    if config is None or config.provider != provider:
        raise Conflict(f"{name}: its OAuth settings changed during the sign-in: start again")
    auth = _authenticator(sessions, box, name)
    try:
        if response.get("error"):
            raise (microsoft_failure(name, dict(response)) if provider == "microsoft"
                   else google_failure(name, str(response["error"])))
        if not response.get("code"):
            raise AuthFailed(f"{PROVIDER_NAMES[provider]} sent the browser back without a code")
        if isinstance(auth, MicrosoftAuth):
            import msal

            grant = auth.finish_auth_code_flow(dict(kept["flow"]), msal.SerializableTokenCache(), response)
            flow = "auth_code"
        else:
            grant = auth.exchange(response["code"], str(kept["redirect_uri"]), str(kept["verifier"]))
            flow = config.resolved_flow
    except (AuthFailed, TokenUnavailable) as exc:
        raise Conflict(f"{name}: {exc}") from None
    TokenStore(sessions, box).connected(name, provider, flow, grant.cache, grant.expires_at, datetime.now(UTC))
    with transaction(sessions) as session:  # signed in: the fetcher tries it now
        wake(session, name)
    return {"account": name, "provider": provider, "provider_name": PROVIDER_NAMES[provider], "flow": flow,
            "access_expires_at": _iso(grant.expires_at)}
