"""A configuration mistake stops a service at start with one line on stderr naming the variable and the
fix: no traceback, no value echoed (a database URL or a key may be a secret), exit code 2."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import ROOT

PASSWORD = "pw-never-echoed-7f3a"


def started(service: str, tmp_path: Path, **env: str) -> str:
    """The one line ``python -m services.SERVICE`` printed before it exited with 2."""
    base = {k: v for k, v in os.environ.items() if not k.startswith("POSTROOM_") and k != "DATABASE_URL"}
    done = subprocess.run([sys.executable, "-m", f"services.{service}"], cwd=ROOT, capture_output=True, text=True,
                          env=base | {"POSTROOM_VAR_DIR": str(tmp_path / "var"), "POSTROOM_DEV_MODE": "1"} | env,
                          timeout=60)
    assert done.returncode == 2, done.stdout + done.stderr
    assert "Traceback" not in done.stderr and PASSWORD not in done.stderr + done.stdout
    [line] = done.stderr.strip().splitlines()
    assert line.startswith(f"postroom {service}: refusing to start: ")
    return line


@pytest.mark.parametrize("service", ["fetcher", "api"])
def test_a_missing_database_url_without_a_local_database_names_the_variable(service: str, tmp_path: Path) -> None:
    line = started(service, tmp_path)
    assert f"DATABASE_URL is not set and there is no local database at {tmp_path / 'var' / 'postroom.db'}" in line
    assert "set DATABASE_URL=postgresql://" in line and "postroom db upgrade" in line


def test_a_database_url_that_is_none_is_refused_without_echoing_it(tmp_path: Path) -> None:
    line = started("itemwriter", tmp_path, DATABASE_URL=f"mysql://postroom:{PASSWORD}@db/postroom")
    assert "DATABASE_URL is not a database URL: set it to postgresql://" in line


@pytest.mark.parametrize(("service", "env", "says"), [
    ("notifier", {"POSTROOM_SECRET_KEYS": PASSWORD}, "POSTROOM_SECRET_KEYS entry 1 is not a Fernet key"),
    ("fetcher", {"POSTROOM_SECRET_KEY_FILE": "/nonexistent/secret.key"},
     "POSTROOM_SECRET_KEY_FILE /nonexistent/secret.key is not a file"),
    ("parser", {"POSTROOM_PREFETCH": "many"}, "POSTROOM_PREFETCH: Input should be a valid integer"),
    ("api", {"POSTROOM_API_PORT": PASSWORD}, "POSTROOM_API_PORT: Input should be a valid integer"),
])
def test_a_setting_that_cannot_be_used_is_named_with_the_fix(service: str, env: dict[str, str], says: str,
                                                             tmp_path: Path) -> None:
    line = started(service, tmp_path, DATABASE_URL=f"sqlite:///{tmp_path / 'x.db'}", **env)
    assert says in line
