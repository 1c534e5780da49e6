"""deploy/requirements.lock: what the images install, pinned with hashes. It covers every dependency of
the images' extras (by name, as tests/deploy/packageset.py resolves an image's package set) and
nothing else but the wheel's build backend, each pin within pyproject.toml's bounds; the Dockerfile
installs from it with --require-hashes only. Refresh: `make lock` (docs/deployment.md)."""

from __future__ import annotations

import importlib.util
import re
import tomllib
from typing import Any

import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

from tests.deploy.conftest import DEPLOY, ROOT
from tests.deploy.packageset import distributions
from tests.deploy.test_container_images import DOCKERFILE, TARGET_EXTRAS, _layer_extras, _requirements, _stages

LOCK = DEPLOY / "requirements.lock"


def _lock_subset() -> Any:
    spec = importlib.util.spec_from_file_location("lock_subset", DEPLOY / "lock_subset.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def pins() -> dict[str, tuple[str, list[str]]]:
    """Canonical name -> (pinned version, its sha256 hashes)."""
    found = {}
    for name, entry in _lock_subset().entries(LOCK.read_text()).items():
        first, *hashes = entry.splitlines()
        match = re.fullmatch(r"([A-Za-z0-9._-]+)==(\S+) \\", first)
        assert match, f"not pinned with ==: {first}"
        found[name] = (match.group(2), [re.fullmatch(r"\s+--hash=sha256:([0-9a-f]{64})( \\)?", h).group(1)  # type: ignore[union-attr]
                                        for h in hashes])
    return found


def _image_package_sets() -> dict[str, set[str]]:
    """Each dependency layer's distributions, resolved as packageset resolves an image's."""
    return {layer: distributions([f"postroom[{extras}]"]) - {"postroom"} for layer, extras in _layer_extras().items()}


def test_every_distribution_is_pinned_with_at_least_one_sha256_hash():
    found = pins()
    assert len(found) > 20
    for name, (version, hashes) in found.items():
        assert version and hashes, name
        assert len(set(hashes)) == len(hashes), name


def test_the_lock_covers_each_images_package_set_and_holds_nothing_else_but_the_build_backend():
    """Every distribution an image needs is pinned (a missing one would fail the --require-hashes
    build); nothing is pinned that no image installs, except setuptools, which builds the wheel."""
    locked = set(pins())
    needed = set().union(*_image_package_sets().values())
    assert needed - locked == set(), "run `make lock`"
    assert locked - needed == {"setuptools"}


def test_every_direct_dependency_of_the_image_extras_is_pinned_within_its_bounds():
    found = pins()
    for extras in set(TARGET_EXTRAS.values()):
        for text in _requirements(extras):
            requirement = Requirement(text)
            name = canonicalize_name(requirement.name)
            assert name in found, f"{name} ({extras}) is not in the lock: run `make lock`"
            assert requirement.specifier.contains(found[name][0], prereleases=True), (text, found[name][0])


def test_the_build_backend_is_pyprojects_and_pinned():
    build = tomllib.loads((ROOT / "pyproject.toml").read_text())["build-system"]["requires"]
    listed = [line for line in (DEPLOY / "build-requirements.in").read_text().splitlines()
              if line.strip() and not line.startswith("#")]
    assert listed == build
    (setuptools,) = [Requirement(r) for r in build]
    assert setuptools.specifier.contains(pins()["setuptools"][0])


def test_the_layer_requirements_are_the_locks_entries_and_a_name_it_lacks_fails_the_build():
    subset = _lock_subset().subset
    text = LOCK.read_text()
    parser_layer = _image_package_sets()["parser"]
    cut = subset(text, sorted(parser_layer))
    assert {canonicalize_name(line.split("==")[0]) for line in cut.splitlines() if "==" in line} == parser_layer
    assert cut.count("==") == len(parser_layer) and cut.count("--hash=sha256:") >= len(parser_layer)
    assert subset(text, ["PyYAML"]) == subset(text, ["pyyaml"])
    with pytest.raises(SystemExit, match="not in the lock file: not-a-dependency"):
        subset(text, ["kombu", "not-a-dependency"])
    kombu = pins()["kombu"][0]
    assert subset(text, [f"kombu=={kombu}"]) == subset(text, ["kombu"])  # what pip freeze prints
    with pytest.raises(SystemExit, match="pinned at another version in the lock file: kombu==0.0.1"):
        subset(text, ["kombu==0.0.1"])


def test_the_dockerfile_installs_every_dependency_with_require_hashes():
    """Each pip that installs or fetches third-party code checks the lock's hashes; only the postroom
    wheel, built in the builder from this tree, goes in without (it is not on an index)."""
    commands = re.findall(r"pip(?: --python \S+)? (?:install|wheel)[^\n\\]*(?:\\\n[^\n\\]*)*",
                          DOCKERFILE.read_text().split("\nFROM ", 1)[1])
    assert commands
    for command in commands:
        ours = "postroom-*.whl" in command or command.rstrip().endswith(" .") or '"postroom[$extra]"' in command
        assert ours or "--require-hashes" in command, command
        if "--require-hashes" not in command and '"postroom[$extra]"' not in command:
            assert "--no-index" in command and "--no-deps" in command, command
    builder = _stages()["builder"][1]
    assert "pip wheel --require-hashes --no-deps --wheel-dir /wheels -r deploy/requirements.lock" in builder
    assert "COPY deploy/requirements.lock" in builder
    dockerignore = (DEPLOY / "Dockerfile.dockerignore").read_text().splitlines()
    assert {"!deploy/requirements.lock", "!deploy/lock_subset.py"} <= set(dockerignore)


def test_make_lock_resolves_every_extra_the_image_layers_use():
    makefile = (ROOT / "Makefile").read_text()
    (extras,) = re.findall(r"^LOCK_EXTRAS := (.+)$", makefile, re.M)
    locked = _requirements(",".join(extras.split()))
    for layer, layer_extras in _layer_extras().items():
        assert _requirements(layer_extras) <= locked, layer
    assert "--generate-hashes" in makefile and "-o deploy/requirements.lock" in makefile
