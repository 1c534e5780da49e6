"""A Microsoft 365 account end to end: signed in by device code (fake authority), its mail read
through the Graph fake with the provider's token, stored and published into the real RabbitMQ,
and released at Graph only after the publish was confirmed."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest

from shared.accounts.specs import AccountSpec, apply_specs
from services.fetcher.apicursors import ApiCursors
from services.fetcher.apisync import sync_source
from services.fetcher.graph import GraphConfig, GraphMailSource
from shared.mailboxes.graph_client import GraphClient
from shared.oauth.accounts import AccountAuthenticators
from shared.oauth.store import TokenStore
from shared.oauth.tokens import TokenProvider
from shared.broker.kombu_broker import KombuBroker
from shared.broker.port import PublishFailed
from shared.broker.topology import Topology
from shared.db.engine import make_engine, make_sessionmaker
from shared.secrets import SecretBox, new_key
from shared.store import FilesystemBlobStore
from tests.support.broker_admin import get_all
from tests.support.fake_authority import CLIENT_ID, HOST, TENANT, FakeAuthority, tokens
from tests.support.fake_graph import FakeMailbox, serve_graph


class ReleaseWatch:
    """The broker port, delegating, and noting what Graph had already been told at each publish."""

    def __init__(self, broker: KombuBroker, mailbox: FakeMailbox, fail: bool = False) -> None:
        self.broker, self.mailbox, self.fail = broker, mailbox, fail
        self.read_at_publish: list[bool] = []

    def publish(self, messages) -> None:  # type: ignore[no-untyped-def]
        self.read_at_publish.append(any(m["isRead"] for m in self.mailbox.messages.values()))
        if self.fail:
            raise PublishFailed("no confirm")
        self.broker.publish(messages)


def test_a_graph_account_is_fetched_into_rabbitmq_and_released_only_after_publish(
        database_url: str, amqp_url: str, namespace: str, tmp_path: Path) -> None:
    engine = make_engine(database_url)
    sessions, box = make_sessionmaker(engine), SecretBox([new_key()])
    spec = AccountSpec.model_validate({
        "name": "support", "kind": "graph", "address": "support@contoso.example", "project": "SUP",
        "oauth": {"provider": "microsoft", "client_id": CLIENT_ID, "tenant": TENANT, "authority_host": HOST}})
    with sessions.begin() as session:
        apply_specs(session, [spec], tmp_path, box)
    authority = FakeAuthority()
    authenticators = AccountAuthenticators(sessions, box, msal_http=authority)
    auth = authenticators("support")
    flow, cache = auth.start_device_flow()
    authority.answer(tokens(access="graph-at-1", refresh="rt-1"))
    grant = auth.finish_device_flow(flow, cache)
    store = TokenStore(sessions, box)
    store.connected("support", "microsoft", "device_code", grant.cache, grant.expires_at, datetime.now(UTC))
    provider = TokenProvider(store, authenticators)

    mailbox = FakeMailbox(valid_tokens={"graph-at-1"})
    server, url = serve_graph(mailbox)
    for n in range(3):
        mailbox.deliver(f"m{n}", f"Message-ID: <m{n}@x>\r\nSubject: {n}\r\n\r\nbody\r\n".encode())
    topology = Topology(namespace=namespace)
    broker = KombuBroker(amqp_url, topology)
    broker.declare()
    blobs = FilesystemBlobStore(tmp_path / "store")

    def source() -> GraphMailSource:
        client = GraphClient(lambda force: provider.token("support", force), url)
        # existing_mail: import, since the mail there before the first sync is meant as new mail here
        return GraphMailSource(client, GraphConfig(mailbox="support@contoso.example", base_url=url,
                                                   existing_mail="import"),
                               ApiCursors(sessions, "support"))
    try:
        failing = ReleaseWatch(broker, mailbox, fail=True)
        with pytest.raises(PublishFailed):
            sync_source("support", source(), blobs, failing)  # type: ignore[arg-type]
        assert not any(m["isRead"] for m in mailbox.messages.values())
        assert ApiCursors(sessions, "support").get("inbox") is None

        watch = ReleaseWatch(broker, mailbox)
        assert sync_source("support", source(), blobs, watch) == 3  # type: ignore[arg-type]
        assert all(m["isRead"] for m in mailbox.messages.values())
        assert watch.read_at_publish[0] is False
        published = [json.loads(body) for body, _ in get_all(amqp_url, topology.queue("parser"))]
        assert sorted(p["payload"]["source_id"] for p in published) == ["m0", "m1", "m2"]
        assert {p["payload"]["source"] for p in published} == {"graph"}
        assert all(blobs.exists(p["payload"]["raw"]["key"]) for p in published)
        assert sync_source("support", source(), blobs, watch) == 0  # nothing new: nothing again
    finally:
        broker.close()
        server.shutdown()
        engine.dispose()
