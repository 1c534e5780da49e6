"""Run the Alembic migrations programmatically (``postroom db upgrade``, the migration Job, tests)."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy.engine import Engine

MIGRATIONS = Path(__file__).parent / "migrations"


def alembic_config(engine: Engine) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    cfg.attributes["engine"] = engine
    return cfg


def upgrade(engine: Engine, revision: str = "head") -> None:
    # "head", not "heads": the migrations form one chain, and a second head (a migration written
    # against an old parent) must fail here rather than apply in an undefined order.
    command.upgrade(alembic_config(engine), revision)
