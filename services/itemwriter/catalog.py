"""The tracker's catalog as the itemwriter reads it: statuses, steps, custom fields (one query each)."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from shared.db.models import CustomField, Status, WorkflowStep


@dataclass(frozen=True)
class Step:
    name: str
    status: str | None
    on_new_mail: str | None


@dataclass(frozen=True)
class Catalog:
    statuses: tuple[str, ...]  # in workflow order
    closed: frozenset[str]
    steps: dict[str, Step]  # in workflow order
    fields: frozenset[str]  # custom field names

    @property
    def first_step(self) -> str | None:
        return next(iter(self.steps), None)

    def step_for_status(self, status: str) -> str | None:
        return next((s.name for s in self.steps.values() if s.status == status), None)


def load_catalog(session: Session) -> Catalog:
    statuses = session.scalars(select(Status).order_by(Status.position, Status.name)).all()
    steps = session.scalars(select(WorkflowStep).order_by(WorkflowStep.position, WorkflowStep.name)).all()
    return Catalog(statuses=tuple(s.name for s in statuses),
                   closed=frozenset(s.name for s in statuses if s.closed),
                   steps={s.name: Step(s.name, s.status, s.on_new_mail) for s in steps},
                   fields=frozenset(session.scalars(select(CustomField.name))))
