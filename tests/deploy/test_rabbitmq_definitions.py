"""deploy/rabbitmq/definitions.json (vhost, user, permissions, policies) fits the topology the services
declare (shared/broker/topology.py) and the rules of deploy/RABBITMQ.md; the Kubernetes example carries
the same definitions. Offline; tests/integration/test_rabbitmq_definitions.py imports it into RabbitMQ."""

from __future__ import annotations

import json
import re
from typing import Any
from urllib.parse import unquote, urlparse

import kubernetes_validate
import yaml

from shared.broker.topology import CONSUMERS, Topology
from shared.settings import CommonSettings
from tests.deploy.conftest import DEPLOY, K8S

DEFINITIONS = DEPLOY / "rabbitmq" / "definitions.json"
EXAMPLE = K8S / "examples" / "rabbitmq-definitions.yaml"
# What a policy may set on Postroom's queues (deploy/RABBITMQ.md, "Policies"); the rest would shorten
# the retry ladder, drop mail or be ignored.
ALLOWED_KEYS = {"delivery-limit", "max-length", "max-length-bytes", "overflow"}


def definitions() -> dict[str, Any]:
    return json.loads(DEFINITIONS.read_text())


def default_topology() -> Topology:
    defaults = CommonSettings.model_fields
    return Topology(retry_delays=defaults["retry_delays"].default, delivery_limit=defaults["delivery_limit"].default)


def policy_applies(policy: dict[str, Any], queue: str) -> bool:
    """RabbitMQ matches a policy's pattern anywhere in the name (an unanchored regex search)."""
    return policy["apply-to"] in ("queues", "all") and re.search(policy["pattern"], queue) is not None


def test_one_vhost_and_one_user_with_the_permissions_the_services_need():
    """The services declare their queues and exchanges at every start: configure, write and read."""
    found = definitions()
    assert set(found) == {"users", "vhosts", "permissions", "policies"}
    ((vhost,), (user,)) = (found["vhosts"], found["users"])
    assert user["hashing_algorithm"] == "rabbit_password_hashing_sha256" and user["tags"] == []
    assert user["password_hash"] == ""  # filled in where it is deployed, never committed
    assert found["permissions"] == [{"user": user["name"], "vhost": vhost["name"], "configure": ".*", "write": ".*",
                                     "read": ".*"}]
    assert {p["vhost"] for p in found["policies"]} == {vhost["name"]}


def test_the_vhost_and_user_are_those_of_the_production_amqp_url():
    example = (K8S / "overlays" / "prod" / "secrets.env.example").read_text()
    (url,) = re.findall(r"^AMQP_URL=(.+)$", example, re.M)
    parsed = urlparse(url)
    found = definitions()
    assert unquote(parsed.path[1:]) == found["vhosts"][0]["name"]
    assert parsed.username == found["users"][0]["name"]


def test_the_policy_bounds_exactly_the_work_queues_with_the_delivery_limit_they_declare():
    """It matches every work queue and no retry queue, DLQ or other queue of the vhost; its delivery
    limit is the one the work queues declare (the lower of the two wins: equal, they agree)."""
    topology = default_topology()
    queues = {d.name: d for d in topology.declarations()}
    work = {topology.queue(c) for c in CONSUMERS}
    (policy,) = definitions()["policies"]
    assert {q for q in queues if policy_applies(policy, q)} == work
    assert not policy_applies(policy, "parser.mail.fetched.retry.1s") and not policy_applies(policy, "x.parser.mail.fetched")
    assert set(policy["definition"]) <= ALLOWED_KEYS
    limit = policy["definition"]["delivery-limit"]
    assert limit == queues[topology.queue("parser")].arguments["x-delivery-limit"] == topology.delivery_limit
    assert limit >= 5  # RABBITMQ.md: a requeue at shutdown counts as a delivery on 3.x
    if "max-length" in policy["definition"] or "max-length-bytes" in policy["definition"]:
        assert policy["definition"].get("overflow") == "reject-publish"


def _example() -> list[dict[str, Any]]:
    return [d for d in yaml.safe_load_all(EXAMPLE.read_text()) if d]


def test_the_kubernetes_example_carries_the_same_definitions_with_only_the_hash_to_fill_in():
    (secret,) = [d for d in _example() if d["kind"] == "Secret"]
    kubernetes_validate.validate(secret, kubernetes_validate.utils.latest_version(), strict=True)
    carried = json.loads(secret["stringData"]["definitions.json"])
    assert carried["users"][0].pop("password_hash") == "PASSWORD-HASH"
    expected = definitions()
    expected["users"][0].pop("password_hash")
    assert carried == expected


def test_the_cluster_example_loads_the_mounted_definitions_on_three_nodes():
    """A check of the RabbitmqCluster fields used (no CRD schema offline): the Secret is mounted, and
    load_definitions points at its file."""
    (secret,) = [d for d in _example() if d["kind"] == "Secret"]
    (cluster,) = [d for d in _example() if d["kind"] == "RabbitmqCluster"]
    assert cluster["apiVersion"] == "rabbitmq.com/v1beta1"
    spec = cluster["spec"]
    assert set(spec) <= {"replicas", "image", "persistence", "rabbitmq", "override", "resources", "tls"}
    assert spec["replicas"] == 3
    (line,) = [line for line in spec["rabbitmq"]["additionalConfig"].splitlines() if line.startswith("load_definitions")]
    path = line.split("=", 1)[1].strip()
    pod = spec["override"]["statefulSet"]["spec"]["template"]["spec"]
    (container,) = pod["containers"]
    assert container["name"] == "rabbitmq"  # the operator's container name: the override merges into it
    (mount,) = container["volumeMounts"]
    (volume,) = pod["volumes"]
    assert mount["name"] == volume["name"] and volume["secret"]["secretName"] == secret["metadata"]["name"]
    assert path == f"{mount['mountPath']}/definitions.json"
    assert secret["metadata"]["namespace"] == cluster["metadata"]["namespace"]
