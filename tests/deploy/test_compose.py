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


# Compose's "${NAME:?message}": the value of NAME, or compose refuses to start with the message.
_REQUIRED = re.compile(r"^\$\{(?P<name>[A-Z_]+):\?(?P<message>[^}]+)\}$")


def interpolate(value: str, env: dict[str, str]) -> str:
    """What docker compose makes of a value that is one required variable (its ``:?`` form: unset
    or empty both refuse)."""
    match = _REQUIRED.match(value)
    assert match, value
    if not env.get(match["name"]):
        raise ValueError(f"required variable {match['name']} is missing a value: {match['message']}")
    return env[match["name"]]


@pytest.mark.parametrize("name", ["POSTROOM_TOKEN_SECRET", "POSTROOM_SECRET_KEYS"])
def test_the_secrets_are_required_from_the_environment_never_written_in_the_file(compose, name):
    """Every service and one-shot reads the token secret and the Fernet keys from the environment
    (deploy/.env), and compose refuses to start without them, saying how to make them; no development
    mode lets a built-in secret through."""
    for service in SERVICES + ("migrate", "accounts"):
        environment = compose["services"][service]["environment"]
        assert "POSTROOM_DEV_MODE" not in environment, service
        value = environment[name]
        with pytest.raises(ValueError, match=rf"{name} is missing a value: set {name} .*deploy/make-env makes it"):
            interpolate(value, {})
        with pytest.raises(ValueError):
            interpolate(value, {name: ""})
        assert interpolate(value, {name: "x" * 40}) == "x" * 40
    assert "deploy/.env" in (ROOT / ".gitignore").read_text().splitlines()


def test_make_env_writes_secrets_the_services_accept_and_never_overwrites_them(tmp_path):
    """deploy/make-env's token secret passes the services' check and its key seals and opens; a second
    run keeps the file (a new key would not open the stored account secrets)."""
    import subprocess

    from shared.secrets import SecretBox
    from shared.settings import token_secret_problem

    target = tmp_path / ".env"
    subprocess.run([str(DEPLOY / "make-env"), str(target)], check=True, capture_output=True, timeout=30)
    values = dict(line.split("=", 1) for line in target.read_text().splitlines())
    assert set(values) == {"POSTROOM_TOKEN_SECRET", "POSTROOM_SECRET_KEYS"}
    assert token_secret_problem(values["POSTROOM_TOKEN_SECRET"]) is None
    box = SecretBox([values["POSTROOM_SECRET_KEYS"]])
    assert box.open(box.seal({"password": "p"})) == {"password": "p"}
    assert target.stat().st_mode & 0o077 == 0
    again = subprocess.run([str(DEPLOY / "make-env"), str(target)], capture_output=True, text=True, timeout=30)
    assert again.returncode == 1 and "keeping it" in again.stderr
    assert dict(line.split("=", 1) for line in target.read_text().splitlines()) == values
