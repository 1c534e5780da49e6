"""Migration 0009 keeps the breakers open at the upgrade (as account-wide ones) and takes people's
replies out of the caps' counts; its downgrade keeps the account-wide breakers."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from alembic import command
from sqlalchemy import text

from shared.db.migrate import alembic_config, upgrade
from shared.db.models import utcnow


def test_an_open_account_breaker_survives_the_upgrade_and_the_downgrade_and_replies_stop_counting(
        sessions: Any) -> None:
    engine = sessions.kw["bind"]
    command.downgrade(alembic_config(engine), "0008")
    now = utcnow()
    with engine.begin() as conn:
        conn.execute(text("INSERT INTO loop_breakers (account, opened_at, open_until, reason, trips) "
                          "VALUES ('support', :now, :until, 'old breaker', 2)"), {"now": now,
                                                                                  "until": now + timedelta(hours=1)})
        for kind in ("reply", "auto-reply"):
            conn.execute(text("INSERT INTO outbound_mails (event_id, recipient, kind, account, message_id, subject, "
                              "status, reason, attempts, created_at) VALUES (:kind, 'ada@example.com', :kind, "
                              "'support', '', '', 'sent', '', 1, :now)"), {"kind": kind, "now": now})
    upgrade(engine)
    with engine.connect() as conn:
        assert conn.execute(text("SELECT account, scope, key, reason, trips FROM loop_breakers")).all() == [
            ("support", "account", "", "old breaker", 2)]
        assert sorted(conn.execute(text("SELECT kind, counted FROM outbound_mails")).all()) == [
            ("auto-reply", True), ("reply", False)]
        conn.execute(text("INSERT INTO loop_breakers (account, scope, key, opened_at, open_until, reason, trips) "
                          "VALUES ('support', 'recipient', 'robot@example.org', :now, :now, '', 1)"), {"now": now})
        conn.commit()
    command.downgrade(alembic_config(engine), "0008")
    with engine.connect() as conn:
        assert conn.execute(text("SELECT account, reason FROM loop_breakers")).all() == [("support", "old breaker")]
    upgrade(engine)
