"""An OAuth account in a migrated SQLite database, its sign-ins sealed under a throw-away key, and
the fake Microsoft authority / Google token endpoint its authenticators talk to."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from shared.accounts.specs import AccountSpec, apply_specs
from shared.oauth.accounts import AccountAuthenticators
from shared.oauth.store import TokenStore
from shared.oauth.tokens import TokenProvider
from shared.db.engine import make_engine, make_sessionmaker
from shared.db.migrate import upgrade
from shared.secrets import SecretBox, new_key
from tests.support.fake_authority import CLIENT_ID, HOST, TENANT, FakeAuthority
from tests.support.fake_google import FakeGoogleToken


@dataclass
class OAuthWorld:
    sessions: Any
    box: SecretBox
    authority: FakeAuthority
    google: FakeGoogleToken
    store: TokenStore
    authenticators: AccountAuthenticators
    provider: TokenProvider

    def add_account(self, name: str, kind: str, oauth: dict[str, Any], **extra: Any) -> None:
        spec = AccountSpec.model_validate({"name": name, "kind": kind, "address": f"{name}@contoso.example",
                                           "project": "SUP", "oauth": oauth, **extra})
        with self.sessions.begin() as session:
            apply_specs(session, [spec], Path.cwd(), self.box)


MICROSOFT = {"provider": "microsoft", "client_id": CLIENT_ID, "tenant": TENANT, "authority_host": HOST}
GOOGLE = {"provider": "google", "client_id": "cid.apps.googleusercontent.com",
          "token_uri": "https://oauth2.test.example/token"}


@pytest.fixture
def world(tmp_path: Path) -> Iterator[OAuthWorld]:
    engine = make_engine(f"sqlite:///{tmp_path / 'oauth.db'}")
    upgrade(engine)
    sessions = make_sessionmaker(engine)
    box = SecretBox([new_key()])
    authority, google = FakeAuthority(), FakeGoogleToken()
    authenticators = AccountAuthenticators(sessions, box, msal_http=authority, google_request=google)
    store = TokenStore(sessions, box)
    yield OAuthWorld(sessions, box, authority, google, store, authenticators, TokenProvider(store, authenticators))
    engine.dispose()
