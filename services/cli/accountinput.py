"""What the account commands read from a person or a script: ``--set key=value`` pairs (values in
YAML, as in the accounts file; ``block.key`` for one field of a block such as ``oauth:``), a secret
from stdin, and the application layer's refusals (which never echo a secret)."""

from __future__ import annotations

import sys
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from typing import Any

import click
import yaml

from services.app.errors import AppError
from shared.accounts.specs import SECRET_FIELDS


def parse_sets(pairs: Iterable[str]) -> dict[str, Any]:
    values: dict[str, Any] = {}
    for pair in pairs:
        key, sep, text = pair.partition("=")
        key = key.strip()
        if not sep or not key:
            raise click.BadParameter(f"expected key=value, got {pair.split('=')[0]!r}", param_hint="--set")
        if key.rpartition(".")[2] in SECRET_FIELDS:
            # A value on the command line lands in the shell history and the process list.
            raise click.BadParameter(f"{key} is a secret: pass it on stdin (--password-stdin, "
                                     "--app-password-stdin or --client-secret-stdin), not on the command line",
                                     param_hint="--set")
        try:
            values[key] = yaml.safe_load(text) if text.strip() else None
        except yaml.YAMLError:
            raise click.BadParameter(f"{key}: not a valid YAML value", param_hint="--set") from None
    return values


def secret_from_stdin(password_stdin: bool, app_password_stdin: bool,
                      client_secret_stdin: bool = False) -> dict[str, str]:
    """``{"password": ...}``, ``{"app_password": ...}`` or ``{"client_secret": ...}`` (an OAuth app's)
    from stdin's first line, or nothing."""
    flags = {"password": password_stdin, "app_password": app_password_stdin, "client_secret": client_secret_stdin}
    wanted = [key for key, given in flags.items() if given]
    if len(wanted) > 1:
        raise click.UsageError(f"{' and '.join(_flag(k) for k in wanted)} all read stdin: choose one")
    if not wanted:
        return {}
    value = sys.stdin.readline().rstrip("\r\n")
    if not value:
        raise click.UsageError("stdin held no secret (an empty first line)")
    return {wanted[0]: value}


def _flag(key: str) -> str:
    return f"--{key.replace('_', '-')}-stdin"


@contextmanager
def refused() -> Iterator[None]:
    """An operation's refusal (services/app) as a one-line error."""
    try:
        yield
    except AppError as exc:
        raise click.ClickException(exc.message) from None
