"""Item numbers: per type, handed out by a row lock on the type's counter, without gaps or twins.
Shared by the itemwriter (items from mail) and the application layer (an item split off by a person)."""

from __future__ import annotations

from sqlalchemy import bindparam, update
from sqlalchemy.orm import Session

from shared.db.models import ItemSequence

_SEQUENCES = ItemSequence.__table__
# Core, built once: the ORM's UPDATE would also look for counters to refresh in the session.
_TAKE_NUMBER = (update(_SEQUENCES).where(_SEQUENCES.c.item_type == bindparam("type_"))
                .values(last_number=_SEQUENCES.c.last_number + 1).returning(_SEQUENCES.c.last_number))


def next_number(session: Session, item_type: str) -> int:
    """Take the next number of ``item_type``. The UPDATE holds the counter's row lock until commit,
    so concurrent writers queue here instead of taking the same number."""
    taken = session.connection().execute(_TAKE_NUMBER, {"type_": item_type}).scalar()
    if taken is None:
        # First item of this type. Two writers racing here: one gets an IntegrityError and retries.
        with session.begin_nested():
            session.add(ItemSequence(item_type=item_type, last_number=1))
        return 1
    return taken
