"""Run ``postroom`` commands in the test process, with their settings from ``env``."""

from __future__ import annotations

from click.testing import CliRunner, Result

from services.cli.main import cli


def postroom(env: dict[str, str], *args: str, input: str | None = None) -> Result:  # noqa: A002 (click's name)
    return CliRunner().invoke(cli, list(args), env=env, input=input, catch_exceptions=False)
