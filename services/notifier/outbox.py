"""The outbox: one row per (event, recipient, kind), written before the SMTP send.

pending → sent | failed; suppressed rows record every send the governor refused, with the reason.

A completion is recorded, durably, right after its send, so a crash of ours re-sends at most the
mail in flight, with the same Message-ID, which clients collapse. A completion the database cannot
take (it is out of reach) is written again until it is, before the next send: its event is never
retried for want of it, which would send the mail a second time. On PostgreSQL a completion is one
statement in autocommit: one round trip per mail instead of five.
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from sqlalchemy import bindparam, insert, select, update
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import DBAPIError, IntegrityError
from sqlalchemy.orm import Session

from services.notifier.compose import Composed
from shared.db.models import ItemMail, OutboundMail, utcnow
from shared.logging import get_logger

log = get_logger("postroom.notifier")


Key = tuple[str, str, str]  # (event id, recipient, kind)

# Statements built once: Core on a connection, the parameters given at execution. The ORM's unit
# of work, and building a statement per row, cost more than the statements themselves.
_OUTBOX = OutboundMail.__table__
_ADD_ALL = insert(_OUTBOX).returning(_OUTBOX.c.id, sort_by_parameter_order=True)
_COUNT_ATTEMPT = update(_OUTBOX).where(_OUTBOX.c.id == bindparam("row_id")).values(attempts=_OUTBOX.c.attempts + 1)
# Parameters named apart from the columns, so that the update below can sit in the history's insert.
_FINISH = update(_OUTBOX).where(_OUTBOX.c.id == bindparam("row_id")).values(
    status=bindparam("new_status"), reason=bindparam("new_reason"), subject=bindparam("new_subject"),
    sent_at=bindparam("new_sent_at"))
# Every column given: the columns' Python-side defaults are not applied to an insert with a CTE.
_HISTORY = insert(ItemMail.__table__).values(
    direction="out", subject=bindparam("new_subject"), from_name="", outputs={}, decision={},
    created_at=bindparam("new_sent_at"),
    **{c: bindparam(f"h_{c}") for c in ("item_id", "item_type", "account", "message_id", "from_address", "text",
                                         "classification", "matched_by")})
# PostgreSQL: a sent mail's update and history row in one statement (a data-modifying CTE), atomic on
# its own. SQLite has no such CTE: there, both go in one transaction.
_FINISH_SENT = _HISTORY.add_cte(_FINISH.cte("finished"))


@dataclass(frozen=True)
class Recorded:
    id: int
    status: str
    message_id: str


def recorded(session: Session, event_ids: Iterable[str]) -> dict[Key, Recorded]:
    """The rows these events already have, in one query."""
    t = _OUTBOX
    rows = session.connection().execute(select(t.c.id, t.c.event_id, t.c.recipient, t.c.kind, t.c.status,
                                               t.c.message_id).where(t.c.event_id.in_(set(event_ids))))
    return {(r.event_id, r.recipient, r.kind): Recorded(r.id, r.status, r.message_id) for r in rows}


def stable_unique(event_id: str, recipient: str, kind: str) -> str:
    """The unique part of the Message-ID: the same for every attempt at the same send."""
    return hashlib.sha256(f"{event_id}\x1f{recipient}\x1f{kind}".encode()).hexdigest()[:32]


def row(*, event_id: str, recipient: str, kind: str, item_id: int, account: str, status: str, message_id: str = "",
        reason: str = "", attempts: int = 0, counted: bool = True) -> dict[str, Any]:
    """A new row's values, for ``add_all``; ``counted``: whether it counts against the governor's caps."""
    return {"event_id": event_id, "recipient": recipient, "kind": kind, "item_id": item_id, "account": account,
            "message_id": message_id, "status": status, "reason": reason, "attempts": attempts,
            "created_at": utcnow(), "counted": counted}


def add_all(session: Session, rows: list[dict[str, Any]]) -> list[int]:
    """Several rows in one statement; their ids in the same order."""
    return list(session.connection().execute(_ADD_ALL, rows).scalars()) if rows else []


def count_attempt(session: Session, row_id: int) -> None:
    session.connection().execute(_COUNT_ATTEMPT, {"row_id": row_id})


def _connect(engine: Engine) -> Connection:
    conn = engine.connect()
    if conn.dialect.name == "postgresql":
        conn.execution_options(isolation_level="AUTOCOMMIT")
    return conn


@contextmanager
def completions(engine: Engine) -> Iterator[Connection]:
    """One connection for a batch's completions (a checkout and its liveness ping per batch). On
    PostgreSQL it runs in autocommit, each completion a statement of its own whose commit waits for
    the disk (about a tenth of a millisecond on a local SSD) before the next mail is sent. The pool
    takes the connection back with its usual isolation level."""
    with _connect(engine) as conn:
        yield conn


class Completions:
    """A batch's completions over one connection, as ``completions``; a completion the database does
    not take (out of reach, the connection lost) is written again on a new connection, waiting
    ``first_wait`` doubling up to ``max_wait`` between tries, until it is written. A refusal of the
    statement itself (``IntegrityError``) is raised: no retry would change it."""

    def __init__(self, engine: Engine, *, first_wait: float = 0.1, max_wait: float = 5.0,
                 sleep: Callable[[float], None] = time.sleep) -> None:
        self.engine, self.first_wait, self.max_wait, self._sleep = engine, first_wait, max_wait, sleep
        self._conn: Connection | None = None

    def __enter__(self) -> Completions:
        return self

    def __exit__(self, *_: object) -> None:
        self._drop()

    def write(self, work: Callable[[Connection], None]) -> None:
        wait, failures = self.first_wait, 0
        while True:
            try:
                if self._conn is None:
                    self._conn = _connect(self.engine)
                with self._conn.begin():
                    work(self._conn)
            except IntegrityError:
                raise
            except DBAPIError as exc:  # OperationalError, InterfaceError: the server out of reach
                failures += 1
                if failures == 1:
                    log.warning("completion not recorded; writing it again until the database takes it",
                                error=type(exc).__name__)
                self._drop()
                self._sleep(wait)
                wait = min(wait * 2, self.max_wait)
                continue
            if failures:
                log.info("completion recorded after the database came back", tries=failures + 1)
            return

    def _drop(self) -> None:
        if self._conn is not None:
            try:
                self._conn.close()
            except DBAPIError:
                pass
            self._conn = None


def finish(conn: Connection, row_id: int, status: str, reason: str, message: Composed, *, message_id: str,
           item_id: int, item_type: str, account: str, kind: str, recipient: str, history: bool = True) -> None:
    """Mark the row sent or failed (the caller knows the row); a sent mail joins the item's history
    (once: ``history=False`` for the other recipients of one mail). Within a transaction of ``conn``
    (a no-op under ``completions``' autocommit: one statement)."""
    params = {"row_id": row_id, "new_status": status, "new_reason": reason, "new_subject": message.subject,
              "new_sent_at": utcnow() if status == "sent" else None}
    if status != "sent" or not history:
        conn.execute(_FINISH, params)
        return
    params.update(h_item_id=item_id, h_item_type=item_type, h_account=account, h_message_id=message_id,
                  h_from_address=message.from_address, h_text=message.text, h_classification=kind,
                  h_matched_by=f"sent by the notifier to {recipient}")
    if conn.dialect.name == "postgresql":
        conn.execute(_FINISH_SENT, params)
    else:
        conn.execute(_FINISH, params)
        conn.execute(_HISTORY, params)
