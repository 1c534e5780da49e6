"""At a service's start: wait for the database, then check that its schema is the one this release's
code was written for (the Alembic head of ``shared/db/migrations``). Migrations are never run by a
service itself: ``postroom db upgrade`` (the migration Job, compose's ``migrate``) does that once per
release, so two replicas of a new release cannot race to migrate, and an old release's pods never
run against a schema they do not know."""

from __future__ import annotations

import threading

from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.exc import InterfaceError, OperationalError

from shared.db.engine import make_engine
from shared.db.migrate import alembic_config
from shared.health import HealthState
from shared.service import until_reachable

UPGRADE = "run `postroom db upgrade` (on Kubernetes: the migration Job, postroom-db-upgrade-<version>)"


class SchemaMismatch(Exception):
    """The database's schema is not this release's: the one-line message says what to do."""


def head_revision(engine: Engine) -> str:
    """The revision this release needs: the head of its migrations (one chain, so one head)."""
    head = ScriptDirectory.from_config(alembic_config(engine)).get_current_head()
    assert head is not None, "shared/db/migrations has no revision"
    return head


def database_revision(engine: Engine) -> str | None:
    """The revision in the database's ``alembic_version``; None for a database never migrated."""
    with engine.connect() as conn:
        return MigrationContext.configure(conn).get_current_revision()


def check_schema(engine: Engine) -> str:
    """The database's revision if it is this release's head; else raise ``SchemaMismatch``."""
    needed, found = head_revision(engine), database_revision(engine)
    if found == needed:
        return found
    if found is None:
        raise SchemaMismatch(f"database schema is empty (never migrated), this release needs {needed}: {UPGRADE}")
    known = {script.revision for script in ScriptDirectory.from_config(alembic_config(engine)).walk_revisions()}
    if found not in known:
        raise SchemaMismatch(f"database schema is at {found}, which this release does not know (a newer release "
                             f"migrated it), this release needs {needed}: run the release that migrated it")
    raise SchemaMismatch(f"database schema is at {found}, this release needs {needed}: {UPGRADE}")


def describe_unreachable(exc: Exception, url: str) -> str:
    """The driver's first line, without the URL's password should a driver ever repeat it."""
    text = str(getattr(exc, "orig", None) or exc).strip().splitlines()
    line = text[0] if text else type(exc).__name__
    password = make_url(url).password
    return line.replace(str(password), "***") if password else line


def wait_for_schema(url: str, stop: threading.Event, health: HealthState, *, first_delay: float = 1.0,
                    max_delay: float = 30.0) -> str | None:
    """Wait (with backoff, one log line per attempt) until the database answers, then check its schema:
    its revision, or None if ``stop`` came first. Raises ``SchemaMismatch``."""
    engine = make_engine(url)
    found: list[str] = []
    try:
        reached = until_reachable("database", lambda: found.append(check_schema(engine)),
                                  (OperationalError, InterfaceError), stop, health, first_delay=first_delay,
                                  max_delay=max_delay, describe=lambda exc: describe_unreachable(exc, url))
    finally:
        engine.dispose()
    return found[0] if reached else None
