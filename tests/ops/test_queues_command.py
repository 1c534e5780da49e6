"""``postroom queues`` against the real RabbitMQ: the true figures of every queue of the topology."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from shared.runner import to_outgoing
from tests.ops.conftest import MAX_RETRIES, Ops
from tests.support.cli import postroom
from tests.support.pipeline import consuming, fetched


def _by_queue(document: dict) -> dict[str, dict]:
    return {q["queue"]: q for q in document["queues"]}


def test_queues_shows_the_true_depth_and_consumers_of_every_queue_after_publishing_n_messages(ops: Ops) -> None:
    ops.broker.publish([to_outgoing(fetched(f"m{n}")) for n in range(7)])
    with consuming(ops.broker, "notifier", lambda env: [], max_retries=MAX_RETRIES,
                   retry_step=ops.topology.retry_step):
        result = postroom(ops.env, "queues", "--json")
    assert result.exit_code == 0, result.output
    document = json.loads(result.output)
    queues = _by_queue(document)
    t = ops.topology
    assert set(queues) == {d.name for d in t.declarations()}  # retry queues and DLQs included
    assert all(q["exists"] for q in queues.values())
    assert queues[t.queue("parser")]["ready"] == 7
    assert queues[t.queue("parser")]["consumers"] == 0
    assert queues[t.queue("notifier")]["consumers"] == 1
    assert sum(q["ready"] for q in queues.values()) == 7
    assert document["dead_letters"] == {"parser": 0, "itemwriter": 0, "notifier": 0}
    assert {"publish_rate", "deliver_rate", "unacked"} <= set(document["unavailable"])
    assert all(q["publish_rate"] is None and q["deliver_rate"] is None for q in queues.values())


def test_watching_the_queues_gives_one_sample_per_interval_with_net_rates_from_the_second_on(ops: Ops) -> None:
    ops.broker.publish([to_outgoing(fetched("m"))])
    result = postroom(ops.env, "queues", "--watch", "--count", "2", "--interval", "0.2", "--json")
    assert result.exit_code == 0, result.output
    first, second = (json.loads(line) for line in result.output.splitlines())
    work = ops.topology.queue("parser")
    assert _by_queue(first)[work]["net_rate"] is None and "net_rate" in first["unavailable"]
    assert _by_queue(second)[work]["net_rate"] == 0.0 and _by_queue(second)[work]["ready"] == 1


def test_queues_names_the_queues_that_are_not_declared_in_a_namespace_nobody_started(ops: Ops) -> None:
    result = postroom({**ops.env, "POSTROOM_BROKER_NAMESPACE": ops.topology.namespace + "nobody."}, "queues")
    assert result.exit_code == 0, result.output
    assert result.output.count("missing") == len(ops.topology.declarations())
    assert "not available over AMQP" in result.output


class _ManagementApi(BaseHTTPRequestHandler):
    """Answers GET /api/queues/<vhost>/<name> in the shape of the RabbitMQ management plugin."""

    known: set[str] = set()
    seen_auth: list[str] = []

    def do_GET(self) -> None:  # noqa: N802
        self.seen_auth.append(self.headers.get("Authorization", ""))
        name = self.path.rsplit("/", 1)[-1].replace("%2E", ".")
        if not self.path.startswith("/api/queues/%2F/") or name not in self.known:
            self.send_response(404)
            self.end_headers()
            return
        body = json.dumps({"name": name, "messages_ready": 4, "messages_unacknowledged": 1, "consumers": 2,
                           "message_stats": {"publish": 90, "publish_details": {"rate": 1.5},
                                             "deliver_get": 80, "deliver_get_details": {"rate": 1.25}}}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def management_api(ops: Ops) -> Iterator[str]:
    _ManagementApi.known = {ops.topology.queue("parser")}
    _ManagementApi.seen_auth = []
    server = ThreadingHTTPServer(("127.0.0.1", 0), _ManagementApi)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()


def test_with_a_management_url_the_rates_and_unacked_counts_come_from_the_management_api(
        ops: Ops, management_api: str) -> None:
    result = postroom(ops.env, "queues", "--json", "--management-url", management_api)
    assert result.exit_code == 0, result.output
    document = json.loads(result.output)
    work = _by_queue(document)[ops.topology.queue("parser")]
    assert (work["ready"], work["unacked"], work["consumers"]) == (4, 1, 2)
    assert (work["publish_rate"], work["deliver_rate"]) == (1.5, 1.25)
    assert document["source"] == "management" and "publish_rate" not in document["unavailable"]
    assert not _by_queue(document)[ops.topology.dead_letter_queue("parser")]["exists"]
    assert _ManagementApi.seen_auth[0] == "Basic Z3Vlc3Q6Z3Vlc3Q="  # guest:guest, from AMQP_URL
