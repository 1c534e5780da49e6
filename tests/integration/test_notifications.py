"""Notifications to an item's notification list, and the addresses nothing automatic may reach."""

from __future__ import annotations

from typing import Any

import pytest
from click.testing import CliRunner

from shared.contracts import Address, StatusChange
from shared.db.engine import transaction
from shared.db.models import Contact, utcnow
from tests.integration.test_notifier import event, handler_for, item_id, outbox  # noqa: F401 (fixture)
from tests.support.smtp import RecordingHandler

WATCHERS = [Address(name="Lead", address="lead@example.com"), Address(address="agent@example.com")]


def with_changes(env: Any, **payload: Any) -> Any:
    return env.model_copy(update={"payload": env.payload.model_copy(update=payload)})


@pytest.mark.parametrize(("change", "status_change", "subject_word"), [
    ("created", None, "New incident"),
    ("appended", None, "Updated"),
    ("appended", StatusChange(from_status="closed", to_status="open", reopened=True), "Status open"),
])
def test_each_watcher_gets_the_notification_matching_the_change(
        sessions: Any, item_id: int, smtp_server: tuple[RecordingHandler, int], change: str,
        status_change: StatusChange | None, subject_word: str) -> None:
    server, port = smtp_server
    env = with_changes(event(item_id, auto_reply=False), change=change, notify=WATCHERS, status_change=status_change)
    handler_for(sessions, port)(env)
    assert sorted(r.rcpt_tos[0] for r in server.received) == ["agent@example.com", "lead@example.com"]
    for received in server.received:
        msg = received.message
        assert subject_word in msg["Subject"] and "[#7]" in msg["Subject"]
        assert msg["Auto-Submitted"] == "auto-generated"
        assert received.mail_from == "support@example.test"  # bounces of notifications come back to us
    handler_for(sessions, port)(env)  # delivered again: nothing more
    assert len(server.received) == 2


def test_an_address_that_bounced_gets_nothing_until_the_flag_is_cleared(
        sessions: Any, item_id: int, smtp_server: tuple[RecordingHandler, int], database_url: str,
        monkeypatch: pytest.MonkeyPatch) -> None:
    from services.cli.main import cli

    server, port = smtp_server
    with transaction(sessions) as s:
        s.add(Contact(email="ada@example.com", failing=True, failing_reason="550 5.1.1 user unknown",
                      failing_since=utcnow()))
    handler_for(sessions, port)(event(item_id))
    assert server.received == [] and "bounced our mail" in outbox(sessions)[0].reason

    monkeypatch.setenv("DATABASE_URL", database_url)
    runner = CliRunner()
    listed = runner.invoke(cli, ["contacts", "failing"])
    assert "ada@example.com" in listed.output and "550 5.1.1" in listed.output
    assert runner.invoke(cli, ["contacts", "clear", "ada@example.com"]).exit_code == 0
    handler_for(sessions, port)(event(item_id, subject="Another one"))
    assert [r.rcpt_tos for r in server.received] == [["ada@example.com"]]


def test_an_unverified_sender_gets_no_auto_reply(
        sessions: Any, item_id: int, smtp_server: tuple[RecordingHandler, int]) -> None:
    server, port = smtp_server
    handler_for(sessions, port)(with_changes(event(item_id), sender_verified=False))
    assert server.received == []
    assert "fail authentication" in outbox(sessions)[0].reason


def test_items_show_lists_every_automatic_mail_with_its_outcome_and_reason(
        sessions: Any, item_id: int, smtp_server: tuple[RecordingHandler, int], database_url: str,
        monkeypatch: pytest.MonkeyPatch) -> None:
    import json

    from services.cli.main import cli
    from shared.contracts import Classification

    _, port = smtp_server
    handler_for(sessions, port)(event(item_id))
    handler_for(sessions, port)(event(item_id, subject="again", classification=Classification(kind="bulk",
                                                                                               reason="Precedence: bulk")))
    monkeypatch.setenv("DATABASE_URL", database_url)
    shown = json.loads(CliRunner().invoke(cli, ["items", "show", "7", "--json"]).output)
    assert [(o["kind"], o["status"]) for o in shown["outbound"]] == [("auto-reply", "sent"), ("auto-reply", "suppressed")]
    assert "Precedence: bulk" in shown["outbound"][1]["reason"]
    text = CliRunner().invoke(cli, ["items", "show", "7"]).output
    assert "auto-reply     to ada@example.com: suppressed (the mail is automatic" in text
