"""The tracker's catalog declared in YAML and applied idempotently (``postroom config apply -f``):
item types, projects, users, customers with their contacts, statuses, workflow steps, custom fields.
Declared rows are created or updated; rows the file does not name are kept (items refer to them)."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict
from sqlalchemy import select
from sqlalchemy.orm import Session

from shared.db.models import (Contact, CustomField, Customer, ItemSequence, ItemType, Project, Status, User,
                              WorkflowStep)


class _Spec(BaseModel):
    model_config = ConfigDict(extra="forbid")


class ItemTypeSpec(_Spec):
    name: str
    label: str = ""


class ProjectSpec(_Spec):
    name: str
    description: str = ""
    notify: list[str] = []


class UserSpec(_Spec):
    email: str
    name: str = ""
    active: bool = True


class ContactSpec(_Spec):
    email: str
    name: str = ""


class CustomerSpec(_Spec):
    name: str
    domains: list[str] = []
    contacts: list[ContactSpec] = []


class StatusSpec(_Spec):
    name: str
    label: str = ""
    closed: bool = False


class StepSpec(_Spec):
    name: str
    label: str = ""
    status: str | None = None
    on_new_mail: str | None = None


class FieldSpec(_Spec):
    name: str
    label: str = ""
    kind: str = "text"
    choices: list[str] = []


class CatalogSpec(BaseModel):
    model_config = ConfigDict(extra="ignore")  # "accounts" is applied by shared/accounts/specs.py

    item_types: list[ItemTypeSpec] = []
    projects: list[ProjectSpec] = []
    users: list[UserSpec] = []
    customers: list[CustomerSpec] = []
    statuses: list[StatusSpec] = []
    steps: list[StepSpec] = []
    custom_fields: list[FieldSpec] = []


def _upsert(session: Session, model: type, key: dict[str, Any], values: dict[str, Any], label: str,
            changes: list[str]) -> Any:
    row = session.scalar(select(model).filter_by(**key))
    if row is None:
        row = model(**key, **values)
        session.add(row)
        session.flush()
        changes.append(f"+ {label}")
        return row
    diff = sorted(k for k, v in values.items() if getattr(row, k) != v)
    for k in diff:
        setattr(row, k, values[k])
    if diff:
        changes.append(f"~ {label}: {', '.join(diff)}")
    return row


def apply_catalog(session: Session, spec: CatalogSpec) -> list[str]:
    changes: list[str] = []
    for t in spec.item_types:
        _upsert(session, ItemType, {"name": t.name}, {"label": t.label or t.name}, f"item type {t.name}", changes)
        if session.get(ItemSequence, t.name) is None:
            session.add(ItemSequence(item_type=t.name, last_number=0))
    for p in spec.projects:
        _upsert(session, Project, {"name": p.name}, {"description": p.description,
                                                     "notify": [a.lower() for a in p.notify]},
                f"project {p.name}", changes)
    for u in spec.users:
        _upsert(session, User, {"email": u.email.lower()}, {"name": u.name, "active": u.active},
                f"user {u.email.lower()}", changes)
    for c in spec.customers:
        customer = _upsert(session, Customer, {"name": c.name}, {"domains": [d.lower() for d in c.domains]},
                           f"customer {c.name}", changes)
        for contact in c.contacts:
            _upsert(session, Contact, {"email": contact.email.lower()},
                    {"name": contact.name, "customer_id": customer.id}, f"contact {contact.email.lower()}", changes)
    for i, s in enumerate(spec.statuses, 1):
        _upsert(session, Status, {"name": s.name}, {"label": s.label or s.name, "closed": s.closed, "position": i},
                f"status {s.name}", changes)
    statuses = set(session.scalars(select(Status.name)))
    step_names = set(session.scalars(select(WorkflowStep.name))) | {s.name for s in spec.steps}
    for i, st in enumerate(spec.steps, 1):
        if st.status is not None and st.status not in statuses:
            raise ValueError(f"step {st.name}: status {st.status!r} is not declared")
        if st.on_new_mail is not None and st.on_new_mail not in step_names:
            raise ValueError(f"step {st.name}: on_new_mail {st.on_new_mail!r} is not a step")
        _upsert(session, WorkflowStep, {"name": st.name}, {"label": st.label or st.name, "position": i,
                                                            "status": st.status, "on_new_mail": st.on_new_mail},
                f"step {st.name}", changes)
    for f in spec.custom_fields:
        _upsert(session, CustomField, {"name": f.name}, {"label": f.label or f.name, "kind": f.kind,
                                                         "choices": f.choices}, f"custom field {f.name}", changes)
    return changes
