"""deploy/compose.yaml: the laptop stack. No Docker engine runs here, so the file is checked for
what `docker compose config` cannot know: it builds real targets, starts in the right order, and
wires the services the way their settings read it."""

from __future__ import annotations

import re
import tomllib
from typing import Any

import pytest
import yaml

from shared.accounts.specs import load_specs
from tests.deploy.conftest import DEPLOY, ROOT
from tests.deploy.test_container_images import _stages
from tests.deploy.wiring import all_env_names

COMPOSE = DEPLOY / "compose.yaml"
SERVICES = ("fetcher", "parser", "itemwriter", "notifier", "api")


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    return yaml.safe_load(COMPOSE.read_text())


def _version() -> str:
    return tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["version"]


def test_every_built_service_names_a_dockerfile_target_and_tags_it_with_the_version(compose):
    """`docker compose build` builds deploy/Dockerfile targets as postroom-<target>:<version>."""
    built = {name: s for name, s in compose["services"].items() if "build" in s}
    assert set(SERVICES) <= set(built)
    for name, service in built.items():
        target = service["build"]["target"]
        assert target in _stages(), name
        assert (DEPLOY / service["build"]["context"]).resolve() == ROOT
        assert service["build"]["dockerfile"] == "deploy/Dockerfile"
        assert service["image"] == f"postroom-{target}:{_version()}", name


def test_every_pulled_image_is_pinned_to_a_version(compose):
    """No `latest` and no bare name for RabbitMQ, PostgreSQL and Mailpit."""
    for name, service in compose["services"].items():
        if "build" in service:
            continue
        repository, _, tag = service["image"].rpartition(":")
        assert repository and re.search(r"\d+\.\d+", tag), f"{name}: {service['image']}"


def test_the_services_start_after_the_schema_and_the_accounts_and_a_healthy_broker(compose):
    """migrate, then accounts, then the four services: none of them starts on an empty database."""
    services = compose["services"]
    assert services["migrate"]["command"] == ["db", "upgrade"]
    assert services["migrate"]["depends_on"]["postgres"]["condition"] == "service_healthy"
    assert services["accounts"]["depends_on"]["migrate"]["condition"] == "service_completed_successfully"
    for name in SERVICES:
        depends = services[name]["depends_on"]
        assert depends["migrate"]["condition"] == "service_completed_successfully", name
        assert depends["accounts"]["condition"] == "service_completed_successfully", name
        assert depends["rabbitmq"]["condition"] == "service_healthy", name


def test_the_blob_store_volume_is_shared_read_only_where_the_code_only_reads(compose):
    """One volume at the parent of POSTROOM_STORE_DIR; read-only for the itemwriter and the notifier."""
    services = compose["services"]
    store_dir = services["fetcher"]["environment"]["POSTROOM_STORE_DIR"]
    mounts = {}
    for name in SERVICES:
        for volume in services[name].get("volumes", []):
            source, target, *mode = volume.split(":")
            if store_dir.startswith(target + "/"):
                mounts[name] = (source, mode)
    assert mounts == {"fetcher": ("blobs", []), "parser": ("blobs", []), "itemwriter": ("blobs", ["ro"]),
                      "notifier": ("blobs", ["ro"]), "api": ("blobs", [])}
    assert "blobs" in compose["volumes"]


def test_the_demo_accounts_drop_folder_is_inside_the_fetchers_volume(compose):
    """The account file validates, and its drop folder is on the shared volume the fetcher mounts."""
    accounts = compose["services"]["accounts"]
    (mount,) = accounts["volumes"]
    source, target, _ = mount.split(":")
    assert accounts["command"][-1] == target
    specs = load_specs(DEPLOY / source)
    fetcher_mounts = [v.split(":")[1] for v in compose["services"]["fetcher"]["volumes"]]
    for spec in specs:
        if spec.kind == "dropfolder":
            assert any(spec.model_extra["path"].startswith(m + "/") for m in fetcher_mounts), spec.name


def test_every_environment_variable_is_a_setting_and_the_health_check_uses_its_port(compose):
    """A misspelt variable would be ignored silently; the healthcheck asks /ready on the health port."""
    for name in SERVICES + ("migrate", "accounts"):
        environment = compose["services"][name]["environment"]
        assert set(environment) - all_env_names() == set(), name
    for name in SERVICES:
        service = compose["services"][name]
        port = service["environment"]["POSTROOM_HEALTH_PORT"]
        assert f"127.0.0.1:{port}/ready" in " ".join(service["healthcheck"]["test"]), name


def test_the_services_run_hardened_as_in_kubernetes(compose):
    """Read-only root with /tmp in memory, no capabilities, no privilege escalation."""
    for name in SERVICES + ("migrate", "accounts"):
        service = compose["services"][name]
        assert service["read_only"] is True, name
        assert service["tmpfs"] == ["/tmp"], name
        assert service["cap_drop"] == ["ALL"], name
        assert "no-new-privileges:true" in service["security_opt"], name
