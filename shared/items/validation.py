"""An account's item settings checked against the catalog before it is stored, the one check
``accounts apply``, ``accounts add``/``edit``/``copy``, ``config apply`` and the API share: a typo is
refused with a message naming the field and the fix, instead of being ignored mail after mail (or, for
an item type, silently starting a new numbering)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from shared.accounts.specs import did_you_mean
from shared.db.models import CustomField, Customer, ItemType, Project, Status, User, WorkflowStep
from shared.items.mapping import BUILTIN_DEFAULTS, DEFAULT_MAPPING, MAIL_FIELDS

_DECLARE = "declare it under {key}: and run 'postroom config apply -f FILE'"


class _Catalog:
    """The names an account may refer to, read once for a whole file."""

    def __init__(self, session: Session) -> None:
        self.item_types = list(session.scalars(select(ItemType.name).order_by(ItemType.name)))
        self.projects = list(session.scalars(select(Project.name).order_by(Project.name)))
        self.users = list(session.scalars(select(User.email).order_by(User.email)))
        self.statuses = list(session.scalars(select(Status.name).order_by(Status.position)))
        self.steps = list(session.scalars(select(WorkflowStep.name).order_by(WorkflowStep.position)))
        self.customers = list(session.scalars(select(Customer.name).order_by(Customer.name)))
        self.fields = {f.name: f for f in session.scalars(select(CustomField))}


def _missing(field: str, value: Any, known: list[str], what: str, key: str) -> str:
    """``field 'x' is not a declared <what>: declare it ...; did you mean 'y'?`` (or the declared ones)."""
    hint = did_you_mean(str(value), known)
    listed = f" (declared: {', '.join(known)})" if known and not hint and len(known) <= 10 else ""
    return f"{field} {value!r} is not a declared {what}{listed}: {_DECLARE.format(key=key)}{hint}"


def _default_problem(name: str, value: Any, catalog: _Catalog) -> str | None:
    """A default value the itemwriter could not set."""
    builtin = {"status": (catalog.statuses, "status", "statuses"), "step": (catalog.steps, "workflow step", "steps"),
               "customer": (catalog.customers, "customer", "customers")}
    if name in builtin:
        known, what, key = builtin[name]
        return None if str(value) in known else _missing(f"default_values.{name}", value, known, what, key)
    field = catalog.fields.get(name)
    if field is None:
        return (f"default_values: {name!r} is no field{did_you_mean(name, [*BUILTIN_DEFAULTS, *catalog.fields])}: "
                f"use status, step, customer or a custom field ({_DECLARE.format(key='custom_fields')})")
    if field.kind == "choice" and field.choices and value not in field.choices:
        return (f"default_values.{name}: {value!r} is not one of its choices{did_you_mean(str(value), field.choices)}"
                f" (choices: {', '.join(field.choices)})")
    if field.kind == "number" and (isinstance(value, bool) or not isinstance(value, int | float)):
        return f"default_values.{name}: {value!r} is not a number ({name} is a number field)"
    if field.kind == "bool" and not isinstance(value, bool):
        return f"default_values.{name}: {value!r} is not true or false ({name} is a bool field)"
    return None


def _problems(catalog: _Catalog, spec: Any) -> list[tuple[str, str]]:
    """(field, problem) of each setting that does not fit the catalog."""
    problems: list[tuple[str, str]] = []
    if spec.item_type not in catalog.item_types:
        problems.append(("item_type", _missing("item_type", spec.item_type, catalog.item_types, "item type",
                                               "item_types")))
    if spec.project not in catalog.projects:
        problems.append(("project", _missing("project", spec.project, catalog.projects, "project", "projects")))
    if spec.creator and spec.creator.lower() not in catalog.users:
        problems.append(("creator", _missing("creator", spec.creator, catalog.users, "user", "users")))
    targets = [*DEFAULT_MAPPING, *catalog.fields]
    for target, source in spec.field_mapping.items():
        if target not in targets:
            problems.append(("field_mapping", f"field_mapping: {target!r} is no item field"
                             f"{did_you_mean(target, targets)} (item fields: {', '.join(targets)})"))
        if source not in MAIL_FIELDS:
            problems.append(("field_mapping", f"field_mapping.{target}: {source!r} is no mail field"
                             f"{did_you_mean(source, MAIL_FIELDS)} (mail fields: {', '.join(MAIL_FIELDS)})"))
    for name, value in spec.default_values.items():
        if (problem := _default_problem(name, value, catalog)) is not None:
            problems.append(("default_values", problem))
    if spec.reply_status and spec.reply_status not in catalog.statuses:
        problems.append(("reply_status", _missing("reply_status", spec.reply_status, catalog.statuses, "status",
                                                  "statuses")))
    return problems


def account_field_problems(session: Session, specs: list[Any]) -> list[tuple[str, str]]:
    """(field, problem) for each AccountSpec's item settings that do not fit the catalog, the problem
    naming the account, the field and the fix; empty when all of them may be stored. Two entries of one
    name are a problem too (of its ``name``)."""
    catalog = _Catalog(session)
    seen: set[str] = set()
    problems = []
    for spec in specs:
        if spec.name in seen:
            problems.append(("name", f"account {spec.name!r} is declared twice: keep one"))
        seen.add(spec.name)
        problems += [(field, f"account {spec.name!r}: {p}") for field, p in _problems(catalog, spec)]
    return problems


def account_problems(session: Session, specs: list[Any]) -> list[str]:
    """The problems of ``account_field_problems``, one line each."""
    return [problem for _, problem in account_field_problems(session, specs)]
