"""The API in this process (FastAPI's test client) over the real database and the real RabbitMQ; the
people and items it works on are made by the application layer and the real itemwriter."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session, sessionmaker

from services.api.bootstrap import ApiService, build
from services.api.settings import ApiSettings
from services.app import users
from shared.db.engine import transaction
from shared.service import broker_from
from tests.support.accountcli import declare_projects
from tests.support.items import TEST_SECRET, add_account, handle, mail

ADMIN = ("root@ours.example", "admin password 1")
AGENT = ("ann@ours.example", "agent password 1")


@dataclass
class Api:
    service: ApiService
    client: TestClient
    sessions: sessionmaker[Session]
    settings: ApiSettings

    def sign_in(self, email: str, password: str) -> dict[str, str]:
        answer = self.client.post("/api/v1/session", json={"email": email, "password": password})
        assert answer.status_code == 200, answer.text
        return {"Authorization": f"Bearer {answer.json()['token']}"}

    def published(self) -> int:
        """Publish what the application layer queued, as the relay does after a commit."""
        return self.service.relay.publish_pending()


@pytest.fixture
def api(database_url: str, sessions: sessionmaker[Session], amqp_url: str, namespace: str,
        tmp_path: Path) -> Iterator[Api]:
    settings = ApiSettings(database_url=database_url, amqp_url=amqp_url, broker_namespace=namespace,
                           token_secret=TEST_SECRET, store_dir=tmp_path / "store", var_dir=tmp_path)
    broker = broker_from(settings)
    service = build(settings, broker)
    broker.declare()
    with transaction(sessions) as session:
        users.add_user(session, ADMIN[0], name="Root", role="admin", password=ADMIN[1])
        users.add_user(session, AGENT[0], name="Ann Agent", role="agent", password=AGENT[1])
    declare_projects(sessions)
    add_account(sessions)
    with TestClient(service.app) as client:
        yield Api(service, client, sessions, settings)
    broker.close()


@pytest.fixture
def admin(api: Api) -> dict[str, str]:
    return api.sign_in(*ADMIN)


@pytest.fixture
def agent(api: Api) -> dict[str, str]:
    return api.sign_in(*AGENT)


def customer_mail(api: Api, **kwargs: Any) -> int:
    """A customer's mail handled by the real itemwriter; the item's number."""
    return handle(api.sessions, mail(**kwargs)).item.number
