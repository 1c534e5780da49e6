"""Status and workflow step: where a new item starts, and where a reply takes an existing one. Pure."""

from __future__ import annotations

from dataclasses import dataclass, field

from services.itemwriter.catalog import Catalog

REOPEN_STATUS = "open"


@dataclass
class Placement:
    status: str
    step: str | None
    reopened: bool = False
    notes: list[str] = field(default_factory=list)


def initial(defaults: dict[str, str], catalog: Catalog) -> Placement:
    """A new item: the account's default status/step if it names known ones, else the first step."""
    notes = []
    step = defaults.get("step")
    if step is not None and step not in catalog.steps:
        notes.append(f"default step {step!r} is not a workflow step, ignored")
        step = None
    step = step or catalog.first_step
    status = defaults.get("status")
    if status is not None and status not in catalog.statuses:
        notes.append(f"default status {status!r} is not a status, ignored")
        status = None
    status = status or (catalog.steps[step].status if step else None) or "new"
    notes.append(f"new item: status {status}, step {step or '-'}")
    return Placement(status, step, notes=notes)


def archived(placement: Placement, catalog: Catalog) -> Placement:
    """A new item from mail imported as archive (there before the first sync): closed, in the first
    closed status of the workflow and the step of that status (else the step it had). With no closed
    status declared, the item stays where ``initial`` put it, and the note says why."""
    closed = next((s for s in catalog.statuses if s in catalog.closed), None)
    if closed is None:
        return Placement(placement.status, placement.step,
                         notes=[*placement.notes, "archive import: no closed status is declared, the item stays "
                                                  f"{placement.status}"])
    step = catalog.step_for_status(closed) or placement.step
    return Placement(closed, step, notes=[*placement.notes, f"archive import: closed as {closed}, step {step or '-'}"])


@dataclass(frozen=True)
class ReplyActions:
    """The account's "actions on a reply to an existing item"."""

    status: str | None  # set the status to this (None: leave it)
    move_step: bool  # place the item in its current step's "on new mail" step
    reopen_closed: bool


def on_reply(status: str, step: str | None, actions: ReplyActions, catalog: Catalog) -> Placement:
    was_closed = status in catalog.closed
    if was_closed and not actions.reopen_closed:
        return Placement(status, step, notes=[f"the item is {status} and the account does not reopen closed items"])
    out = Placement(status, step)
    current = catalog.steps.get(step) if step else None
    if actions.move_step and current is not None and current.on_new_mail in catalog.steps:
        out.step = current.on_new_mail
        out.status = catalog.steps[out.step].status or out.status
        out.notes.append(f"step {step} places items with a new mail in {out.step}")
    elif actions.move_step:
        out.notes.append(f"step {step or '-'} keeps items with a new mail where they are")
    if actions.status is not None and actions.status in catalog.statuses:
        out.status = actions.status
        out.notes.append(f"the account sets the status of replied items to {actions.status}")
    if was_closed and out.status in catalog.closed:
        out.status = REOPEN_STATUS
        out.step = catalog.step_for_status(REOPEN_STATUS) or out.step
        out.notes.append(f"the item was {status}: reopened as {REOPEN_STATUS}")
    out.reopened = was_closed and out.status not in catalog.closed
    if (out.status, out.step) == (status, step):
        out.notes.append("status and step unchanged")
    return out
