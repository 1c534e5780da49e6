"""Running the real fetcher (bootstrap, scheduler, workers) in the test process over a broker we can
inspect, against accounts applied the way ``postroom accounts apply`` does."""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from shared.broker.memory import MemoryBroker
from shared.broker.port import Broker
from shared.health import HealthState
from shared.secrets import SecretBox
from tests.support.pipeline import running


def apply_account(sessions: Any, box: SecretBox, **spec: Any) -> None:
    from shared.accounts.specs import AccountSpec, apply_specs

    spec.setdefault("address", "support@example.com")
    spec.setdefault("project", "Support")
    with sessions.begin() as session:
        apply_specs(session, [AccountSpec.model_validate(spec)], Path.cwd(), box)


# The fetching tests put their mail in the mailbox before the account exists and mean it as new mail:
# existing_mail: import, unless a test says otherwise (None: the product's default, archive).
def imap_account(user: Any, name: str = "support", existing_mail: str | None = "import",
                 **config: Any) -> dict[str, Any]:
    return {"name": name, "kind": "imap", "host": "127.0.0.1", "port": user.server.imap_port, "tls": "none",
            "user": user.name, "password": user.password, **config,
            **({"existing_mail": existing_mail} if existing_mail else {})}


def pop3_account(user: Any, name: str = "support", existing_mail: str | None = "import",
                 **config: Any) -> dict[str, Any]:
    return {"name": name, "kind": "pop3", "host": "127.0.0.1", "port": user.server.pop3_port, "tls": "none",
            "user": user.name, "password": user.password, **config,
            **({"existing_mail": existing_mail} if existing_mail else {})}


def source_ids(broker: MemoryBroker) -> Counter[str]:
    return Counter(json.loads(m.body)["payload"]["source_id"] for m in broker.published)


def account_source_ids(broker: MemoryBroker) -> Counter[tuple[str, str]]:
    return Counter((p["account"], p["source_id"]) for p in payloads(broker))


def payloads(broker: MemoryBroker) -> list[dict[str, Any]]:
    return [json.loads(m.body)["payload"] for m in broker.published]


def fetcher_settings(database_url: str, tmp_path: Path, key: str, **overrides: Any) -> Any:
    from services.fetcher.settings import FetcherSettings

    values: dict[str, Any] = {"DATABASE_URL": database_url, "var_dir": tmp_path / "var", "secret_keys": (key,),
                              "accounts_refresh": 0.2, "lease_ttl": 3.0, "backoff_base": 0.1,
                              "backoff_cap": 0.5, "auth_backoff_base": 30.0}
    return FetcherSettings(**(values | overrides))


@contextmanager
def running_fetcher(settings: Any, broker: Broker, **factories: Any) -> Iterator[Any]:
    """The fetcher service in a thread until the block ends (then a clean SIGTERM-like stop)."""
    from services.fetcher.bootstrap import build

    service = build(settings, HealthState(), broker, **factories)
    with running(service):
        yield service
