"""An account's item settings checked against the catalog when applied, so a typo is refused with a
message at ``config apply`` instead of being ignored mail after mail."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from shared.items.mapping import BUILTIN_DEFAULTS, DEFAULT_MAPPING, MAIL_FIELDS
from shared.db.models import CustomField, ItemType, Project, Status, User


def account_problems(session: Session, spec: Any) -> list[str]:
    """What is wrong with an AccountSpec's item settings; empty when it may be applied."""
    problems = []
    fields = set(session.scalars(select(CustomField.name)))
    if session.get(ItemType, spec.item_type) is None:
        problems.append(f"item_type {spec.item_type!r} is not an item type")
    if session.scalar(select(Project.id).where(Project.name == spec.project)) is None:
        problems.append(f"project {spec.project!r} is not declared under projects")
    if spec.creator and session.scalar(select(User.id).where(User.email == spec.creator.lower())) is None:
        problems.append(f"creator {spec.creator!r} is not declared under users")
    for target, source in spec.field_mapping.items():
        if target not in DEFAULT_MAPPING and target not in fields:
            problems.append(f"field_mapping: {target!r} is no item field")
        if source not in MAIL_FIELDS:
            problems.append(f"field_mapping: {source!r} is no mail field (one of {', '.join(MAIL_FIELDS)})")
    for name in spec.default_values:
        if name not in BUILTIN_DEFAULTS and name not in fields:
            problems.append(f"default_values: {name!r} is no field")
    if spec.reply_status and session.get(Status, spec.reply_status) is None:
        problems.append(f"reply_status {spec.reply_status!r} is not a status")
    return [f"account {spec.name}: {p}" for p in problems]
