"""deploy/rabbitmq/definitions.json imported into the real RabbitMQ (under a vhost and user of the
test's own): the password hash made as deploy/RABBITMQ.md says signs the user in, the services declare
their topology as that user, and the policy applies to the work queues and nothing else."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import tempfile
import uuid
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlparse

import pytest

from shared.broker.kombu_broker import KombuBroker
from shared.broker.topology import CONSUMERS
from tests.deploy.test_rabbitmq_definitions import DEFINITIONS, default_topology
from tests.support.waiting import wait_for

ROOT = Path(__file__).resolve().parents[2]
PASSWORD = "definitions-test-password"


def _rabbitmqctl(*args: str) -> str:
    path = shutil.which("rabbitmqctl")
    if path is None:
        pytest.fail("rabbitmqctl is not installed (Debian: rabbitmq-server): the definitions cannot be imported")
    done = subprocess.run([path, *args], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout


def _documented_hash(password: str) -> str:
    """The hash made by the command in deploy/RABBITMQ.md."""
    doc = (ROOT / "deploy" / "RABBITMQ.md").read_text()
    (program,) = re.findall(r"^python3 -c '([^']+)' 'THE-PASSWORD'$", doc, re.M)
    done = subprocess.run(["python3", "-c", program, password], capture_output=True, text=True, check=True, timeout=30)
    return done.stdout.strip()


@pytest.fixture
def imported(amqp_url: str) -> Iterator[str]:
    """The definitions imported with a vhost and user of this test; an AMQP URL for them."""
    name = f"postroom-def-{uuid.uuid4().hex[:8]}"
    found = json.loads(DEFINITIONS.read_text())
    ((user,), (vhost,)) = (found["users"], found["vhosts"])
    text = DEFINITIONS.read_text().replace(f'"{vhost["name"]}"', f'"{name}"').replace(f'"{user["name"]}"', f'"{name}"')
    renamed = json.loads(text)
    renamed["users"][0]["password_hash"] = _documented_hash(PASSWORD)
    # Readable by the user rabbitmqctl switches to (Debian's wrapper runs it as rabbitmq).
    with tempfile.TemporaryDirectory() as directory:
        Path(directory).chmod(0o755)
        path = Path(directory) / "definitions.json"
        path.write_text(json.dumps(renamed))
        path.chmod(0o644)
        _rabbitmqctl("import_definitions", str(path))
    # The import runs on after the command returns: wait for its last part, the policy.
    wait_for(lambda: subprocess.run(["rabbitmqctl", "list_policies", "-p", name, "-q"], capture_output=True, text=True,
                                    timeout=60).stdout.count("postroom-work-queues") == 1, timeout=30, interval=0.5,
             what="the imported policy")
    real = urlparse(amqp_url)
    try:
        yield real._replace(netloc=f"{name}:{PASSWORD}@{real.hostname}:{real.port or 5672}", path=f"/{name}").geturl()
    finally:
        _rabbitmqctl("delete_vhost", name)
        _rabbitmqctl("delete_user", name)


def test_the_imported_user_declares_the_topology_and_the_policy_applies_to_the_work_queues_only(imported):
    vhost = urlparse(imported).path[1:]
    _rabbitmqctl("authenticate_user", vhost, PASSWORD)
    topology = default_topology()
    broker = KombuBroker(imported, topology)
    broker.declare()  # the x-delivery-limit argument and the policy's delivery-limit coexist
    broker.close()
    rows = json.loads(_rabbitmqctl("list_queues", "-p", vhost, "name", "policy", "--formatter", "json"))
    policies = {row["name"]: row["policy"] for row in rows}
    assert set(policies) == {d.name for d in topology.declarations()}
    (policy,) = json.loads(DEFINITIONS.read_text())["policies"]
    work = {topology.queue(c) for c in CONSUMERS}
    assert {q for q, p in policies.items() if p} == work
    assert {policies[q] for q in work} == {policy["name"]}
