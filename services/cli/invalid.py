"""Refusing a declarative file without echoing what it holds: it may carry a password."""

from __future__ import annotations

from pathlib import Path

import click
import yaml
from pydantic import ValidationError


def refuse(path: Path, exc: ValidationError | yaml.YAMLError) -> click.ClickException:
    if isinstance(exc, yaml.YAMLError):
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}" if mark is not None else ""
        return click.ClickException(f"{path}: not valid YAML{where}")
    problems = "; ".join(f"{'.'.join(map(str, e['loc'])) or 'account'}: {e['msg']}"
                         for e in exc.errors(include_input=False, include_url=False))
    return click.ClickException(f"{path}: {problems}")
