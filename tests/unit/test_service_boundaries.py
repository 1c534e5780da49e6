"""The pipeline services reach each other only through versioned messages, and shared/ is a library:
no pipeline service imports another service package (the CLI, the API, the console or another
pipeline service), and shared/ imports none. The application layer (services/app) imports only
shared/; the entry points over it (the CLI, the API, the console) import no pipeline service, but
for the CLI's three commands that run the pipeline's own code on one mail (EXEMPT). Read from the
source with ``ast``, so an import inside a function or a relative one counts too."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PIPELINE = ("fetcher", "parser", "itemwriter", "notifier")
# Developer tools and the MTA's pipe, documented in docs/architecture.md: `postroom parse` and
# `postroom simulate` run the parser (and the itemwriter's and notifier's decisions) on one mail in
# the CLI's process; `postroom ingest` is the fetcher's stdin source, run by the MTA.
EXEMPT = {"services/cli/parse.py", "services/cli/simulate.py", "services/cli/ingest.py"}
# The application layer's one reach into the pipeline: a simulation runs the services' own code on
# one mail in a rolled-back transaction (for `postroom simulate` and the previews of a release).
SIMULATION = "services/app/simulation.py"


def _module_of(path: Path, root: Path) -> str:
    parts = list(path.relative_to(root).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imported_modules(path: Path, root: Path) -> list[tuple[int, str]]:
    """(line, module) for every import in the file, relative ones resolved, and every
    ``import_module("...")`` with a literal name."""
    module_name = _module_of(path, root)
    package = module_name if path.name == "__init__.py" else module_name.rpartition(".")[0]
    found = []
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[: len(package.split(".")) - node.level + 1]
                module = ".".join([*base, node.module] if node.module else base)
            else:
                module = node.module or ""
            found.append((node.lineno, module))
            found += [(node.lineno, f"{module}.{alias.name}") for alias in node.names if module == "services"]
        elif (isinstance(node, ast.Call) and getattr(node.func, "id", getattr(node.func, "attr", None)) == "import_module"
              and node.args and isinstance(node.args[0], ast.Constant) and isinstance(node.args[0].value, str)):
            found.append((node.lineno, node.args[0].value))
    return sorted(found)


def foreign_service_imports(package: Path, own: str | None, root: Path = ROOT) -> list[str]:
    """Imports of ``services.<name>`` for any name but ``own``, as ``file:line module``."""
    paths = sorted(package.rglob("*.py"))
    assert paths, f"no Python files under {package}"
    out = []
    for path in paths:
        for line, module in imported_modules(path, root):
            parts = module.split(".")
            if parts[0] == "services" and len(parts) > 1 and parts[1] != own:
                out.append(f"{path.relative_to(root)}:{line} {module}")
    return out


@pytest.mark.parametrize("service", PIPELINE)
def test_a_pipeline_service_imports_no_other_service_package(service: str) -> None:
    """services/<pipeline service> imports only itself, shared/ and libraries."""
    assert foreign_service_imports(ROOT / "services" / service, own=service) == []


def test_the_application_layer_imports_only_shared() -> None:
    """services/app is what the CLI and the API share: it imports shared/ and itself, no service,
    but for the simulation's reach into the pipeline's own code, and only there."""
    found = foreign_service_imports(ROOT / "services" / "app", own="app")
    assert [f for f in found if f.split(":")[0] != SIMULATION] == []
    assert {f.split(" ")[1].split(".")[1] for f in found} <= set(PIPELINE) and found


@pytest.mark.parametrize("entry", ["cli", "api", "console"])
def test_an_entry_point_imports_no_pipeline_service(entry: str) -> None:
    """The CLI, the API and the console call services/app (and each other, to start or serve one
    another), never a pipeline service's modules; the CLI's EXEMPT commands are the documented
    exceptions, and each of them does need it (an exemption no longer needed is dropped)."""
    found = [f for f in foreign_service_imports(ROOT / "services" / entry, own=entry)
             if f.split(" ")[1].split(".")[1] in PIPELINE]
    assert [f for f in found if f.split(":")[0] not in EXEMPT] == []
    if entry == "cli":
        assert {f.split(":")[0] for f in found} == EXEMPT


def test_shared_imports_no_service() -> None:
    """shared/ is a library under the services: it imports none of them."""
    assert foreign_service_imports(ROOT / "shared", own=None) == []


def test_the_check_sees_absolute_relative_late_and_dynamic_imports(tmp_path: Path) -> None:
    """A check that cannot fail proves nothing: each way of importing another service is caught."""
    package = tmp_path / "services" / "parser"
    package.mkdir(parents=True)
    (package / "__init__.py").write_text("")
    (package / "bad.py").write_text(
        "import services.cli.main\n"
        "from services.itemwriter import writer\n"
        "from services import notifier\n"
        "from ..api import routes\n"
        "from . import own\n"
        "from services.parser import fine\n"
        "def late():\n"
        "    from services.app.pages import home\n"
        "    return import_module('services.fetcher.loop')\n")
    found = [entry.split(" ", 1)[1] for entry in foreign_service_imports(package, own="parser", root=tmp_path)]
    assert found == ["services.cli.main", "services.itemwriter", "services.notifier", "services.api",
                     "services.app.pages", "services.fetcher.loop"]
