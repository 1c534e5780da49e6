"""The Alembic migrations form one chain: one head, every revision reachable from the first."""

from __future__ import annotations

from alembic.script import ScriptDirectory

from shared.db.migrate import MIGRATIONS


def test_the_migrations_have_exactly_one_head() -> None:
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    script = ScriptDirectory.from_config(cfg)
    assert len(script.get_heads()) == 1, f"several heads: {script.get_heads()}: chain the new migration"
    walked = [rev.revision for rev in script.walk_revisions()]
    assert walked[-1] == "0001" and len(walked) == len(list(MIGRATIONS.glob("versions/0*.py")))
