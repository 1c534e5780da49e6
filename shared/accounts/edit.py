"""Changing one stored account: read it back as the spec ``apply`` takes, change it, validate it
through ``AccountSpec`` and store it through ``apply_specs`` (so secrets are sealed the same way).
Diffs name secret fields but never show their values."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from shared.accounts.specs import _COLUMNS, SECRET_FIELDS, AccountSpec, apply_specs
from shared.db.models import Account
from shared.secrets import SecretBox

# The columns every account has and a person may not want repeated in a diff of its configuration.
_IDENTITY = ("name",)


def find_account(session: Session, name: str) -> Account | None:
    return session.scalar(select(Account).where(Account.name == name))


def spec_values(account: Account, box: SecretBox) -> dict[str, Any]:
    """The account as ``apply`` would take it: columns, its kind's configuration, its opened secrets."""
    return ({"name": account.name} | {c: getattr(account, c) for c in _COLUMNS} | dict(account.config)
            | box.open(account.sealed_secrets))


def store(session: Session, values: dict[str, Any], box: SecretBox) -> AccountSpec:
    """Validate ``values`` (raises ``pydantic.ValidationError``) and create or update the account."""
    spec = AccountSpec.model_validate(values)
    apply_specs(session, [spec], Path.cwd(), box)
    return spec


def diff_lines(before: dict[str, Any], after: dict[str, Any]) -> list[str]:
    lines = []
    for key in sorted(set(before) | set(after)):
        old, new = before.get(key), after.get(key)
        if old == new or key in _IDENTITY:
            continue
        if key in SECRET_FIELDS:
            lines.append(f"  {key}: {'changed' if old and new else 'set' if new else 'removed'} (sealed)")
        else:
            lines.append(f"  {key}: {_shown(before, key)} -> {_shown(after, key)}")
    return lines


def _shown(values: dict[str, Any], key: str) -> str:
    return repr(values[key]) if key in values else "(default)"
