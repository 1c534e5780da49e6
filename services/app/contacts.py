"""Outside addresses our mail bounced from (flagged ``failing`` by the itemwriter from a permanent
delivery report, services/itemwriter/bounces.py): nothing automatic goes to them until a person
clears the flag, here, from the CLI, the API or the console."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from services.app.actors import Actor
from services.app.errors import NotFound
from shared.db.models import Contact


def _view(contact: Contact) -> dict[str, Any]:
    return {"email": contact.email, "name": contact.name, "reason": contact.failing_reason,
            "since": contact.failing_since.isoformat(timespec="seconds") if contact.failing_since else None}


def failing_contacts(session: Session, actor: Actor) -> list[dict[str, Any]]:
    """The addresses flagged as failing, by address."""
    rows = session.scalars(select(Contact).where(Contact.failing).order_by(Contact.email))
    return [_view(c) for c in rows]


def clear_failing(session: Session, actor: Actor, address: str) -> dict[str, Any]:
    """Mail may go to ``address`` again; what the flag was."""
    actor.require_admin("clearing a failing address")
    contact = session.scalar(select(Contact).where(Contact.email == address.strip().lower()))
    if contact is None or not contact.failing:
        raise NotFound(f"{address} is not flagged as failing")
    view = _view(contact)
    contact.failing, contact.failing_reason, contact.failing_since = False, "", None
    return view
