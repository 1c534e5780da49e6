"""``postroom --version`` says the installed package's version."""

from __future__ import annotations

import subprocess
import sys
from importlib.metadata import version
from pathlib import Path

import pytest
from click.testing import CliRunner

from services.cli.main import cli


def test_version_prints_the_installed_package_version() -> None:
    """The version comes from the package metadata, so it is the one pyproject.toml gave at install."""
    result = CliRunner().invoke(cli, ["--version"])
    assert result.exit_code == 0, result.output
    assert result.output == f"postroom {version('postroom')}\n"


def test_the_installed_command_answers_version_without_settings() -> None:
    """The console script prints it before reading any setting or reaching any server."""
    script = Path(sys.executable).with_name("postroom")
    if not script.exists():
        pytest.skip(f"no postroom script beside {sys.executable} (not an installed environment)")
    done = subprocess.run([str(script), "--version"], capture_output=True, text=True, timeout=60,
                          env={"PATH": "/usr/bin:/bin"})
    assert done.returncode == 0, done.stderr
    assert done.stdout == f"postroom {version('postroom')}\n"
